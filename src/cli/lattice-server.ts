#!/usr/bin/env node
import { runServerCli } from "./server-command.js";

runServerCli(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`lattice-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
