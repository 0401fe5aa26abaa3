#!/usr/bin/env node
import { SERVER_CLIENT_VERBS } from "./commands/server-verbs.js";

// The `lattice` command line. `lattice server [flags]` is `lattice-server [flags]`; the client commands
// (pub, sub, stream, kv ...) are built on the official NATS client libraries. Each side loads only its own
// modules, so a client command does not pay for loading the server (and vice versa).

const argv = process.argv.slice(2);

if (argv[0] === "server" && !SERVER_CLIENT_VERBS.has(argv[1] ?? "")) {
  // nats-server's flags (-js, -DV, -sd ...) are not commander-style; hand them over untouched.
  import("./server-command.js")
    .then(({ runServerCli }) => runServerCli(argv.slice(1)))
    .catch((err: unknown) => {
      process.stderr.write(`lattice: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
} else {
  const { runCli } = await import("./program.js");
  await runCli(process.argv);
}
