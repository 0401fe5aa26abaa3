import { applyConfig, validateOptions } from "./config/server-options.js";
import { launchServer } from "./server/launch.js";
import { defaultOptions } from "./server/options.js";
import type { Server } from "./server/server.js";

export type { ServerOptions } from "./server/options.js";
export { Server } from "./server/server.js";
export { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "./version.js";

/**
 * Options for an embedded server, with the config file's names and shapes (`port`, `max_payload`,
 * `authorization { users [...] }`, `jetstream { store_dir }`, `websocket { port, no_tls }`...).
 * Defaults differ from the command line: a free port on 127.0.0.1, and quiet logs.
 */
export type EmbeddedOptions = Record<string, unknown> & { port?: number; host?: string; quiet?: boolean };

export interface RunningServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startServer(config: EmbeddedOptions = {}): Promise<RunningServer> {
  const { quiet, ...rest } = config;
  const opts = defaultOptions();
  opts.host = "127.0.0.1";
  opts.port = -1;
  opts.quiet = quiet ?? true;
  const warnings: string[] = [];
  applyConfig(opts, rest, (w) => warnings.push(w));
  validateOptions(opts);
  const server = await launchServer(opts);
  for (const w of warnings) server.logger.warn(w);
  const port = server.port;
  const host = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host;
  return {
    url: `nats://${host}:${port}`,
    port,
    server,
    close: () => server.shutdown(),
  };
}
