// Shared setup of the cluster tests (routes, leaf nodes): a per-test environment that closes what it opened,
// and client helpers that collect messages and keep calling a service.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { type RunningServer, startServer } from "../../src/index.js";
import type { TcpProxy } from "../helpers/tcp-proxy.js";

export const T = { timeout: 20_000 };

/** Client options that stay on the one server given: no gossiped URLs, no reconnect. */
export const pinned = { ignoreClusterUpdates: true, maxReconnectAttempts: 0 } as const;

/**
 * Servers, clients, proxies and temp dirs of one test, all closed at its end whatever happened. Clients get
 * `clientDefaults` under the options of each `client` call.
 */
export class Env {
  readonly servers: RunningServer[] = [];
  readonly clients: NatsConnection[] = [];
  readonly proxies: TcpProxy[] = [];
  readonly dirs: string[] = [];

  constructor(private readonly clientDefaults: ConnectionOptions = {}) {}

  async server(opts: Record<string, unknown>): Promise<RunningServer> {
    const s = await startServer(opts);
    this.servers.push(s);
    return s;
  }

  async client(s: RunningServer | string, opts: ConnectionOptions = {}): Promise<NatsConnection> {
    const nc = await connect({
      servers: typeof s === "string" ? s : s.url,
      ...this.clientDefaults,
      ...opts,
    });
    this.clients.push(nc);
    return nc;
  }

  dir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((nc) => nc.close()));
    await Promise.allSettled(this.servers.map((s) => s.close()));
    await Promise.allSettled(this.proxies.map((p) => p.close()));
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Collect a subscription's payloads. */
export function collect(nc: NatsConnection, subject: string, queue?: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, {
    queue,
    callback: (_e, m) => {
      got.push(m.string());
    },
  });
  return got;
}

/**
 * Requests one after another until `stop` resolves (and 20 more after it), recording who answered each
 * (`answerOf` the reply) and every failure.
 */
export async function callWhile(
  nc: NatsConnection,
  subject: string,
  stop: Promise<unknown>,
  answerOf: (m: Msg) => string = (m) => m.string(),
): Promise<{ answers: string[]; failures: string[] }> {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const answers: string[] = [];
  const failures: string[] = [];
  let after = 0;
  for (let k = 0; after < 20; k++) {
    if (stopped) after++;
    try {
      answers.push(answerOf(await nc.request(subject, String(k), { timeout: 2000 })));
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  return { answers, failures };
}

/** The leaf-node URL of a server (or of a port). */
export function leafUrl(s: RunningServer | number): string {
  return `nats-leaf://127.0.0.1:${typeof s === "number" ? s : s.server.leafnodes!.port}`;
}

/** Registered leaf connections of `s` (both roles). */
export function links(s: RunningServer): number {
  let n = 0;
  for (const l of s.server.leafnodes!.connections) if (l.registered && !l.closed) n++;
  return n;
}

/** The spoke side's remote is connected and bound. */
export function remoteUp(s: RunningServer, index = 0): boolean {
  return s.server.leafnodes!.remoteLinks[index]?.connection?.registered === true;
}

/** Subscriptions leaf links hold in `$G` of `s` (the other side's interest), for one subject or all. */
export function leafSubs(s: RunningServer, subject?: string, queue?: string): number {
  let n = 0;
  for (const sub of s.server.globalAccount.sublist.subscriptions())
    if (
      sub.owner.kind === "leaf" &&
      (subject === undefined || (sub.subject === subject && sub.queue === queue))
    )
      n++;
  return n;
}
