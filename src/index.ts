import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  // An embedded server never opens a store it was not pointed at (./data may be another server's):
  // without store_dir it gets a fresh directory of its own, removed when it closes.
  let scratch: string | undefined;
  if (opts.jetstream?.enabled && !namesStoreDir(rest)) {
    scratch = mkdtempSync(join(tmpdir(), "lattice-js-"));
    opts.jetstream.storeDir = scratch;
  }
  let server: Server;
  try {
    server = await launchServer(opts);
  } catch (err) {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
  for (const w of warnings) server.logger.warn(w);
  const port = server.port;
  const host = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host;
  return {
    url: `nats://${host}:${port}`,
    port,
    server,
    close: async () => {
      await server.shutdown();
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

const STORE_DIR_KEYS = new Set(["store_dir", "store", "storedir"]);

/** Whether an embedded config says where JetStream keeps its data (top level or in `jetstream { }`). */
function namesStoreDir(config: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(config)) {
    const key = k.toLowerCase();
    if (key === "store_dir") return true;
    if (key === "jetstream" && isRecord(v) && Object.keys(v).some((j) => STORE_DIR_KEYS.has(j.toLowerCase())))
      return true;
  }
  return false;
}

/**
 * Options for an embedded cluster: how many servers, the cluster's name (a random one by default), and
 * options every server shares (config-file names, as for startServer). Client, cluster and monitoring ports
 * are picked per server; a `cluster { }` block may add what every route shares (authorization...).
 */
export type ClusterStartOptions = EmbeddedOptions & { servers: number; name?: string };

export interface RunningCluster {
  readonly servers: RunningServer[];
  /** Every server's client URL, for a client that should fail over across the cluster. */
  readonly urls: string[];
  close(): Promise<void>;
}

/** How long startCluster waits for the full mesh of routes. */
const MESH_TIMEOUT_MS = 10_000;

/**
 * Start `servers` embedded servers on 127.0.0.1 that form one cluster: the first listens for routes on a free
 * port, the others route to it and find each other through it. Resolves once every server has a route to
 * every other one (rejects after 10 s, with the servers stopped again).
 */
export async function startCluster(config: ClusterStartOptions): Promise<RunningCluster> {
  const { servers: count, name, cluster: sharedCluster, server_name: serverName, ...shared } = config;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`startCluster: servers must be a positive integer, got ${String(count)}`);
  }
  if (shared.port !== undefined && shared.port !== -1) {
    throw new Error("startCluster: the servers cannot share a client port; leave `port` out");
  }
  const block = isRecord(sharedCluster) ? sharedCluster : {};
  const clusterName = name ?? `lattice-${randomBytes(6).toString("hex")}`;
  // Routes present the cluster's own credentials, when its listener asks for them.
  const auth = isRecord(block.authorization) ? block.authorization : {};
  const user = typeof auth.user === "string" ? auth.user : undefined;
  const pass = typeof auth.password === "string" ? auth.password : undefined;
  const creds =
    user === undefined
      ? ""
      : `${encodeURIComponent(user)}${pass === undefined ? "" : `:${encodeURIComponent(pass)}`}@`;
  const options = (i: number, routes: string[]): EmbeddedOptions => ({
    ...shared,
    server_name: `${typeof serverName === "string" ? serverName : clusterName}-${i + 1}`,
    cluster: { ...block, name: clusterName, listen: "127.0.0.1:-1", routes },
  });

  const started: RunningServer[] = [];
  const stopAll = async () => {
    await Promise.allSettled(started.map((s) => s.close()));
  };
  try {
    const first = await startServer(options(0, []));
    started.push(first);
    const seed = `nats-route://${creds}127.0.0.1:${first.server.cluster!.port}`;
    const rest = await Promise.allSettled(
      Array.from({ length: count - 1 }, (_, i) => startServer(options(i + 1, [seed]))),
    );
    for (const r of rest) if (r.status === "fulfilled") started.push(r.value);
    const failed = rest.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    await waitForMesh(started);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    servers: started,
    urls: started.map((s) => s.url),
    close: stopAll,
  };
}

/** Every server has a route to every other one, or an error naming who is missing routes after the timeout. */
async function waitForMesh(servers: RunningServer[]): Promise<void> {
  const want = servers.length - 1;
  const deadline = Date.now() + MESH_TIMEOUT_MS;
  for (;;) {
    const missing = servers.filter((s) => (s.server.cluster?.routes.size ?? 0) < want);
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      const counts = missing.map((s) => `${s.server.name}: ${s.server.cluster?.routes.size ?? 0}`).join(", ");
      throw new Error(
        `startCluster: the route mesh did not form within ${MESH_TIMEOUT_MS / 1000}s (routes ${counts}; expected ${want} each)`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
