import { Command, CommanderError } from "commander";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import { registerBench } from "./commands/bench.js";
import { registerConsumer } from "./commands/consumer.js";
import { registerContext } from "./commands/context.js";
import { registerKv } from "./commands/kv.js";
import { registerObject } from "./commands/object.js";
import { registerPub } from "./commands/pub.js";
import { registerReply } from "./commands/reply.js";
import { registerRequest } from "./commands/request.js";
import { registerServerInfo } from "./commands/server-info.js";
import { registerStream } from "./commands/stream.js";
import { registerSub } from "./commands/sub.js";
import { addConnectionOptions } from "./connect-options.js";
import { EXIT_CODES_HELP, Exit } from "./errors.js";

/** The `lattice` client commands (everything but running a server), ready to parse. */
export function buildProgram(): Command {
  const program = new Command("lattice")
    .description("Lattice: a NATS-compatible messaging server and its command line")
    .version(`${LATTICE_VERSION} (nats-server feature level ${NATS_FEATURE_LEVEL})`)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(str.replace(/^error: /, "lattice: error: ")),
    });
  addConnectionOptions(program);
  program.addHelpText(
    "after",
    `\nExamples:\n  $ lattice pub orders.new '{"id": 1}'\n  $ lattice sub 'orders.>'\n  $ lattice stream ls\n  $ lattice kv get CONFIGDATA_default mykey\n  $ lattice --context prod server check jetstream\n${EXIT_CODES_HELP}\n`,
  );
  registerServerInfo(program);
  registerContext(program);
  registerPub(program);
  registerSub(program);
  registerRequest(program);
  registerReply(program);
  registerStream(program);
  registerConsumer(program);
  registerKv(program);
  registerObject(program);
  registerBench(program);

  return program;
}

/** Parse and run one command line, then exit with its code (library timers must not keep it alive). */
export async function runCli(argv: string[]): Promise<void> {
  // `lattice stream ls | head`: a closed pipe ends the command quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; a bad command line exits with the usage code.
      const ok =
        err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0;
      process.exitCode = ok ? Exit.OK : Exit.USAGE;
    } else {
      process.stderr.write(`lattice: error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = Exit.FAILED;
    }
  }
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(process.exitCode ?? 0);
}
