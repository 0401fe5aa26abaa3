import { Command, CommanderError } from "commander";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import { addConnectionOptions, valueTakingGlobalOptions } from "./connect-options.js";
import { EXIT_CODES_HELP, Exit } from "./errors.js";

type Register = (program: Command) => void;

/** Each command group loads its module (and the client libraries it needs) only when it is used. */
const GROUPS: Array<{ names: string[]; load: () => Promise<Register> }> = [
  { names: ["server"], load: async () => (await import("./commands/server-info.js")).registerServerInfo },
  { names: ["context", "ctx"], load: async () => (await import("./commands/context.js")).registerContext },
  { names: ["pub", "publish"], load: async () => (await import("./commands/pub.js")).registerPub },
  { names: ["sub", "subscribe"], load: async () => (await import("./commands/sub.js")).registerSub },
  { names: ["request", "req"], load: async () => (await import("./commands/request.js")).registerRequest },
  { names: ["reply"], load: async () => (await import("./commands/reply.js")).registerReply },
  { names: ["stream", "str"], load: async () => (await import("./commands/stream.js")).registerStream },
  { names: ["consumer", "con"], load: async () => (await import("./commands/consumer.js")).registerConsumer },
  { names: ["kv"], load: async () => (await import("./commands/kv.js")).registerKv },
  { names: ["object", "obj"], load: async () => (await import("./commands/object.js")).registerObject },
  { names: ["init"], load: async () => (await import("./commands/init.js")).registerInit },
  { names: ["bench"], load: async () => (await import("./commands/bench.js")).registerBench },
];

/** The command word of a command line (`lattice -s url stream ls` -> "stream"), skipping global options. */
export function commandWord(args: readonly string[]): string | undefined {
  const withValue = valueTakingGlobalOptions();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return args[i + 1];
    if (a.startsWith("-")) {
      if (!a.includes("=") && withValue.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/**
 * The `lattice` client commands (everything but running a server), ready to parse. Given the command word,
 * only that group is loaded (unless the word is unknown: then everything, for help and suggestions).
 */
export async function buildProgram(word?: string, versionOnly = false): Promise<Command> {
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
  const only = word === undefined ? undefined : GROUPS.find((g) => g.names.includes(word));
  for (const g of only ? [only] : versionOnly ? [] : GROUPS) (await g.load())(program);

  return program;
}

/** Parse and run one command line, then exit with its code (library timers must not keep it alive). */
export async function runCli(argv: string[]): Promise<void> {
  // `lattice stream ls | head`: a closed pipe ends the command quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
  try {
    const args = argv.slice(2);
    const word = commandWord(args);
    const versionOnly = word === undefined && (args.includes("-V") || args.includes("--version"));
    await (await buildProgram(word, versionOnly)).parseAsync(argv);
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
