#!/usr/bin/env node
import { Command } from "commander";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import { runServerCli } from "./server-command.js";

// The `lattice` command line. `lattice server [flags]` is `lattice-server [flags]`; the client commands
// (pub, sub, stream, kv ...) are built on the official NATS client libraries.

const argv = process.argv.slice(2);

if (argv[0] === "server") {
  // nats-server's flags (-js, -DV, -sd ...) are not commander-style; hand them over untouched.
  runServerCli(argv.slice(1)).catch((err: unknown) => {
    process.stderr.write(`lattice: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  const program = new Command("lattice")
    .description("Lattice: a NATS-compatible messaging server and its command line")
    .version(`${LATTICE_VERSION} (nats-server feature level ${NATS_FEATURE_LEVEL})`);
  program
    .command("server")
    .description("run a server; accepts nats-server's flags (see `lattice server --help`)")
    .helpOption(false)
    .allowUnknownOption()
    .argument("[flags...]")
    .addHelpText("after", "\nExample:\n  lattice server -p 4222 -m 8222 -js -sd ./data\n");
  program.parse(process.argv);
}
