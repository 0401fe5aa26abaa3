#!/usr/bin/env node
import { SERVER_CLIENT_VERBS } from "./commands/server-verbs.js";

// The `lattice` command line. `lattice server [flags]` is `lattice-server [flags]`; the client commands
// (pub, sub, stream, kv ...) are built on the official NATS client libraries. Each side loads only its own
// modules, so a client command does not pay for loading the server (and vice versa).

const argv = process.argv.slice(2);
const HELP = new Set(["--help", "-h", "help"]);

if (argv[0] === "server" && argv.length === 2 && HELP.has(argv[1])) {
  // Both halves of `lattice server`: the server's own flags, then the commands that look at a running server.
  const [{ runCli }, { USAGE }] = await Promise.all([import("./program.js"), import("./flags.js")]);
  process.stdout.write(
    `${USAGE.replace("Usage: lattice-server [options]", "Running a server: lattice server [options]")}\n`,
  );
  await runCli([...process.argv.slice(0, 2), "server", "--help"]);
} else if (argv[0] === "server" && !SERVER_CLIENT_VERBS.has(argv[1] ?? "")) {
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
