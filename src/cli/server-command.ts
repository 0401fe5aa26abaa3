import { dirname, resolve } from "node:path";
import { ConfigError } from "../config/errors.js";
import { parseConfigFile } from "../config/parser.js";
import { applyConfig, OptionsError, validateOptions } from "../config/server-options.js";
import { launchServer } from "../server/launch.js";
import { defaultOptions, type ServerOptions } from "../server/options.js";
import { reloadServer } from "../server/reload.js";
import type { Server } from "../server/server.js";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import { FlagError, parseServerFlags, USAGE } from "./flags.js";
import { sendSignal } from "./signal.js";

function fail(msg: string): never {
  process.stderr.write(`lattice-server: ${msg}\n`);
  process.exit(1);
}

/** Options from the config file (if any), then the flags on top, as nats-server does. */
export function loadOptions(
  argv: string[],
  warn: (m: string) => void,
): { opts: ServerOptions; test: boolean } {
  const flags = parseServerFlags(argv);
  if (flags.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (flags.version) {
    // Harnesses parse `nats-server: vX.Y.Z`; Lattice's own version follows.
    process.stdout.write(`nats-server: v${NATS_FEATURE_LEVEL} (lattice ${LATTICE_VERSION})\n`);
    process.exit(0);
  }
  if (flags.signal !== undefined) {
    sendSignal(flags.signal);
    process.exit(0);
  }
  for (const f of flags.unsupported) {
    fail(`flag ${f} names a feature that is not available in this release`);
  }
  const opts = defaultOptions();
  if (flags.configFile !== undefined) {
    const path = resolve(flags.configFile);
    const conf = parseConfigFile(path);
    applyConfig(opts, conf, warn, dirname(path));
    opts.configFile = path;
  }
  applyConfig(opts, flags.overrides, warn);
  // As nats-server: --routes needs a route listener, from --cluster or the config file.
  const flagRoutes = (flags.overrides.cluster as { routes?: string[] } | undefined)?.routes;
  if (flagRoutes !== undefined && flagRoutes.length > 0 && (opts.cluster?.port ?? 0) === 0) {
    throw new FlagError("solicited routes require cluster capabilities, e.g. --cluster");
  }
  validateOptions(opts);
  return { opts, test: flags.testConfig };
}

export async function runServerCli(argv: string[]): Promise<void> {
  const warnings: string[] = [];
  let loaded: { opts: ServerOptions; test: boolean };
  try {
    loaded = loadOptions(argv, (w) => warnings.push(w));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof OptionsError || err instanceof FlagError)
      fail(err.message);
    throw err;
  }
  const { opts, test } = loaded;
  if (test) {
    for (const w of warnings) process.stderr.write(`lattice-server: warning: ${w}\n`);
    process.stdout.write(
      `lattice-server: configuration file ${opts.configFile ?? "(none)"} test is successful\n`,
    );
    process.exit(0);
  }
  let server: Server;
  try {
    server = await launchServer(opts);
  } catch (err) {
    fail(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const w of warnings) server.logger.warn(w);
  installSignals(server, argv);
}

function installSignals(server: Server, argv: string[]): void {
  const exit = () => {
    server.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => {
    server.logger.info('Trapped "interrupt" signal');
    exit();
  });
  process.on("SIGTERM", () => {
    if (server.lameDuck) return;
    server.logger.info('Trapped "terminated" signal');
    exit();
  });
  process.on("SIGUSR2", () => {
    server.enterLameDuckMode().then(() => process.exit(0));
  });
  process.on("SIGHUP", () => {
    server.logger.info('Trapped "hangup" signal');
    const warnings: string[] = [];
    let next: ServerOptions;
    try {
      next = loadOptions(argv, (w) => warnings.push(w)).opts;
    } catch (err) {
      server.logger.error(
        `Failed to reload server configuration: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    reloadServer(server, next).then(
      (more) => {
        for (const w of [...warnings, ...more]) server.logger.warn(w);
      },
      (err: unknown) => server.logger.error(`Failed to reload server configuration: ${String(err)}`),
    );
  });
  process.on("SIGUSR1", () => {
    server.logger.info("Log file reopened");
  });
}
