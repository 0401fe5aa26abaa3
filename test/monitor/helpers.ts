import { connect, type NatsConnection } from "@nats-io/transport-node";
import { launchServer } from "../../src/server/launch.js";
import { defaultOptions, type ServerOptions } from "../../src/server/options.js";
import type { Server } from "../../src/server/server.js";

/** A real server with monitoring on a free port, plus the clients a test opened on it. */
export interface Monitored {
  server: Server;
  /** Monitoring base URL, including any base path. */
  url: string;
  connect(name?: string): Promise<NatsConnection>;
  get(path: string): Promise<Response>;
  json<T = Record<string, unknown>>(path: string): Promise<T>;
  close(): Promise<void>;
}

export async function startMonitored(overrides: Partial<ServerOptions> = {}): Promise<Monitored> {
  const server = await launchServer({
    ...defaultOptions(),
    host: "127.0.0.1",
    port: -1,
    httpHost: "127.0.0.1",
    httpPort: -1,
    quiet: true,
    ...overrides,
  });
  const url = `${server.listenerUrls().monitoring![0]}${overrides.httpBasePath ?? ""}`;
  const clients: NatsConnection[] = [];
  const get = (path: string) => fetch(`${url}${path}`);
  return {
    server,
    url,
    get,
    async json<T>(path: string): Promise<T> {
      const res = await get(path);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async connect(name?: string) {
      const nc = await connect({ servers: server.clientUrl, name });
      clients.push(nc);
      return nc;
    },
    async close() {
      await Promise.all(clients.map((nc) => (nc.isClosed() ? undefined : nc.close())));
      await server.shutdown();
    },
  };
}

/** Poll until `check` returns true; on timeout, rethrow its last failure. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error("condition not met in time");
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, 20));
  }
}
