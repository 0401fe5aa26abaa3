// A wasmCloud-shaped lattice on one machine: a supercluster of two clusters (east: 2 servers, west: 1) and
// an edge leaf node hanging off west, all Lattice. Three instances of a key-value provider serve the wRPC
// function below in queue group `default.kvstore` (one per region); callers in each region call it and we
// count where each call was served. Used by `npm run example:lattice` and by the test suite.

import net from "node:net";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { type RunningServer, startServer } from "../../src/index.js";

export const FUNCTION_SUBJECT = "default.kvstore.wrpc.0.0.1.wasi:keyvalue/store@0.2.0.get";
export const QUEUE_GROUP = "default.kvstore";
export const REGIONS = ["east", "west", "edge"] as const;
export type Region = (typeof REGIONS)[number];

/** A TCP relay in front of the hub's leaf port, so the example can cut and restore the edge's link. */
class Link {
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<Link> {
    let link: Link | undefined;
    const server = net.createServer((client) => {
      if (link === undefined || !link.up) {
        client.destroy();
        return;
      }
      const upstream = net.connect(targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        link.sockets.add(s);
        s.on("close", () => link?.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    link = new Link(server, (server.address() as net.AddressInfo).port);
    return link;
  }

  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.up = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface Topology {
  servers: Record<"east-1" | "east-2" | "west-1" | "edge-1", RunningServer>;
  edgeLink: Link;
  close(): Promise<void>;
}

/** Start the supercluster and the edge leaf; resolves once every link is up. */
export async function startTopology(): Promise<Topology> {
  const quiet = true;
  const east1 = await startServer({
    quiet,
    server_name: "east-1",
    cluster: { name: "east", listen: "127.0.0.1:-1" },
    gateway: { name: "east", listen: "127.0.0.1:-1" },
  });
  const east1Route = east1.server.listenerUrls().cluster![0]!;
  const east1Gateway = `nats://127.0.0.1:${east1.server.gateways!.port}`;
  const east2 = await startServer({
    quiet,
    server_name: "east-2",
    cluster: { name: "east", listen: "127.0.0.1:-1", routes: [east1Route] },
    gateway: { name: "east", listen: "127.0.0.1:-1" },
  });
  const west1 = await startServer({
    quiet,
    server_name: "west-1",
    gateway: { name: "west", listen: "127.0.0.1:-1", gateways: [{ name: "east", urls: [east1Gateway] }] },
    leafnodes: { listen: "127.0.0.1:-1" },
  });
  const edgeLink = await Link.start(west1.server.leafnodes!.port);
  const edge1 = await startServer({
    quiet,
    server_name: "edge-1",
    leafnodes: { remotes: [{ urls: [`nats-leaf://127.0.0.1:${edgeLink.port}`] }], reconnect: "250ms" },
  });
  const servers = { "east-1": east1, "east-2": east2, "west-1": west1, "edge-1": edge1 };
  const topology: Topology = {
    servers,
    edgeLink,
    async close() {
      for (const s of Object.values(servers)) await s.close();
      await edgeLink.close();
    },
  };
  try {
    await until(() => {
      const gwOut = (s: RunningServer) => [...(s.server.gateways?.outboundConnections() ?? [])].length;
      return (
        east1.server.cluster!.routes.size === 1 &&
        east2.server.cluster!.routes.size === 1 &&
        gwOut(east1) === 1 &&
        gwOut(east2) === 1 &&
        gwOut(west1) === 1 &&
        edgeLinked(topology)
      );
    }, 10_000);
  } catch (err) {
    await topology.close();
    throw err;
  }
  return topology;
}

export function edgeLinked(t: Topology): boolean {
  for (const l of t.servers["edge-1"].server.leafnodes!.connections) if (l.registered) return true;
  return false;
}

/** One provider instance: answers with the region it runs in. */
export interface Instance {
  readonly region: Region;
  readonly nc: NatsConnection;
  readonly sub: Subscription;
  served: number;
  stop(): Promise<void>;
}

export async function startInstance(url: string, region: Region): Promise<Instance> {
  const nc = await connect({ servers: url, name: `kvstore-${region}` });
  const instance: Instance = {
    region,
    nc,
    served: 0,
    sub: nc.subscribe(FUNCTION_SUBJECT, {
      queue: QUEUE_GROUP,
      callback: (_err, m) => {
        instance.served++;
        m.respond(region);
      },
    }),
    // As a host stopping a provider: stop taking calls, answer those already received, then leave.
    stop: () => nc.drain(),
  };
  await nc.flush();
  return instance;
}

export interface CallStats {
  region: Region;
  calls: number;
  servedBy: Record<Region, number>;
  /** Calls that were asked again after no-responders or a timeout (each retry counted). */
  retries: number;
  failed: number;
}

/**
 * `calls` sequential calls from a client in `region`; `during(i)` runs before call i (to change the topology
 * mid-run). A call is retried (up to 5 times) after "no responders" or a timeout, as wRPC callers do.
 */
export async function makeCalls(
  url: string,
  region: Region,
  calls: number,
  during?: (i: number) => Promise<void> | void,
): Promise<CallStats> {
  const nc = await connect({ servers: url, name: `caller-${region}` });
  const stats: CallStats = { region, calls, servedBy: { east: 0, west: 0, edge: 0 }, retries: 0, failed: 0 };
  try {
    for (let i = 0; i < calls; i++) {
      await during?.(i);
      let served: Region | undefined;
      for (let attempt = 0; attempt < 6 && served === undefined; attempt++) {
        if (attempt > 0) {
          stats.retries++;
          await sleep(20 * attempt);
        }
        try {
          const reply = await nc.request(FUNCTION_SUBJECT, "key", { timeout: 1000 });
          served = reply.string() as Region;
        } catch {
          // no responders or timed out: ask again
        }
      }
      if (served === undefined) stats.failed++;
      else stats.servedBy[served]++;
    }
  } finally {
    await nc.close();
  }
  return stats;
}

export interface ExampleResult {
  /** Phase 1: every region has its instance; calls stay in their region. */
  steady: CallStats[];
  /** Phase 2: east's instance stops mid-run; east's calls move to another cluster. */
  failover: CallStats;
  /** Phase 3: the edge's link to the hub is cut; calls made behind the leaf keep working. */
  offline: CallStats;
}

/** The whole example: the three phases with `calls` calls per caller. */
export async function runExample(calls = 10_000): Promise<ExampleResult> {
  const t = await startTopology();
  try {
    const url = (name: keyof Topology["servers"]) => t.servers[name].url;
    const east = await startInstance(url("east-1"), "east");
    const west = await startInstance(url("west-1"), "west");
    const edge = await startInstance(url("edge-1"), "edge");
    // Interest reaches every server of the supercluster.
    await until(async () => {
      for (const s of ["east-2", "west-1", "edge-1"] as const) {
        const nc = await connect({ servers: url(s) });
        try {
          await nc.request(FUNCTION_SUBJECT, "", { timeout: 500 });
        } catch {
          return false;
        } finally {
          await nc.close();
        }
      }
      return true;
    }, 10_000);

    const steady = await Promise.all([
      makeCalls(url("east-2"), "east", calls),
      makeCalls(url("west-1"), "west", calls),
      makeCalls(url("edge-1"), "edge", calls),
    ]);

    const failover = await makeCalls(url("east-2"), "east", calls, async (i) => {
      if (i === Math.floor(calls / 2)) await east.stop();
    });

    t.edgeLink.cut();
    await until(() => !edgeLinked(t), 5000);
    const offline = await makeCalls(url("edge-1"), "edge", calls);
    t.edgeLink.restore();

    await west.stop();
    await edge.stop();
    return { steady, failover, offline };
  } finally {
    await t.close();
  }
}

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`the lattice did not form within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
