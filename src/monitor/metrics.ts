import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import type { MonitoredLeaf, MonitoredLink, MonitoredRoute, MonitoredServer } from "./types.js";

// Prometheus metrics. Each server gets its own registry (tests run many servers in one process, and the
// global registry would mix them up); values are read from the server at scrape time, never pushed.

let processRegistry: Registry | undefined;

/**
 * prom-client's process and Node.js metrics, registered once per process: they describe the process, not a
 * server, and each registration starts its own GC and event-loop observers.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Labels = Record<string, string>;
type Sample = [Labels, number];

/** A gauge or counter with one series per link, rebuilt from the server's links at each scrape. */
function perLink(
  kind: "gauge" | "counter",
  name: string,
  help: string,
  labelNames: string[],
  registers: Registry[],
  read: () => Sample[],
): void {
  if (kind === "gauge") {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        // Links that went away leave no stale series behind.
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  } else {
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }
}

/** A remote's URL as a label: `host:port`, never the user and password it may carry. */
function withoutCredentials(url: string): string {
  try {
    return new URL(url.includes("://") ? url : `nats-leaf://${url}`).host;
  } catch {
    return url.replace(/^.*@/, "");
  }
}

/** The series every route and leaf link has: [kind, name suffix, help (the link's kind is appended), value]. */
const LINK_SERIES: Array<["gauge" | "counter", string, string, (l: MonitoredLink) => number]> = [
  ["counter", "in_msgs_total", "Messages received over the", (l) => l.stats.inMsgs],
  ["counter", "out_msgs_total", "Messages sent over the", (l) => l.stats.outMsgs],
  ["counter", "in_bytes_total", "Bytes received over the", (l) => l.stats.inBytes],
  ["counter", "out_bytes_total", "Bytes sent over the", (l) => l.stats.outBytes],
  ["gauge", "rtt_seconds", "Round-trip time of the last PING on the", (l) => l.rttMs / 1000],
  ["gauge", "pending_bytes", "Bytes waiting to be written to the", (l) => l.pendingBytes],
];

/** Routes and leaf-node links: traffic, RTT and interest per remote server, and each dialer's reconnects. */
function linkMetrics(server: MonitoredServer, registers: Registry[]): void {
  const routes = () => [...(server.cluster?.routes.values() ?? [])];
  const routeLabels = (r: MonitoredRoute): Labels => ({
    remote_id: r.remote?.server_id ?? "",
    remote_name: r.remote?.server_name ?? "",
  });
  const leafs = () => [...(server.leafnodes?.connections ?? [])].filter((l) => l.registered);
  const leafLabels = (l: MonitoredLeaf): Labels => ({
    remote_id: l.remoteInfo?.server_id ?? l.remoteConnect?.server_id ?? "",
    remote_name: l.remoteName,
    account: l.account?.name ?? "",
    role: l.spoke ? "spoke" : "hub",
  });
  const series = <T extends MonitoredLink & { subCount: number }>(
    prefix: string,
    what: string,
    list: () => T[],
    labels: (x: T) => Labels,
    labelNames: string[],
  ): void => {
    const each = (f: (x: T) => number) => () => list().map((x): Sample => [labels(x), f(x)]);
    for (const [kind, suffix, help, read] of LINK_SERIES)
      perLink(kind, `${prefix}_${suffix}`, `${help} ${what}`, labelNames, registers, each(read));
    const subsHelp = `Subscriptions of the remote server over the ${what}`;
    perLink(
      "gauge",
      `${prefix}_subscriptions`,
      subsHelp,
      labelNames,
      registers,
      each((x) => x.subCount),
    );
  };
  const count = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  count("lattice_routes", "Routes to other servers of the cluster", () => server.cluster?.routes.size ?? 0);
  series("lattice_route", "route", routes, routeLabels, ["remote_id", "remote_name"]);
  perLink(
    "counter",
    "lattice_route_reconnects_total",
    "Times a route dialer connected again after its first connect, by route URL",
    ["url", "remote_id"],
    registers,
    () =>
      [...(server.cluster?.dialerStats?.() ?? [])].map(
        (d): Sample => [{ url: d.url, remote_id: d.peerId ?? "" }, Math.max(0, d.connects - 1)],
      ),
  );

  count("lattice_leafnodes", "Leaf-node links (both roles)", () => leafs().length);
  series("lattice_leaf", "leaf-node link", leafs, leafLabels, [
    "remote_id",
    "remote_name",
    "account",
    "role",
  ]);
  perLink(
    "counter",
    "lattice_leaf_reconnects_total",
    "Times a leaf-node remote connected again after its first connect, by remote",
    ["remote", "account"],
    registers,
    () =>
      [...(server.leafnodes?.remoteDialerStats?.() ?? [])].map(
        (r): Sample => [
          { remote: r.urls.map(withoutCredentials).join(","), account: r.account },
          Math.max(0, r.connects - 1),
        ],
      ),
  );
}

export class ServerMetrics {
  readonly registry = new Registry();

  constructor(server: MonitoredServer) {
    // Registered now rather than at the first scrape, so process CPU is counted from server start.
    processMetrics();
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    // Counters only move forward in the server; prom-client has no set() for them, hence reset + inc.
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });

    new Gauge({
      name: "lattice_server_info",
      help: "Server identity; the value is always 1",
      labelNames: ["server_id", "server_name", "version", "nats_version"],
      registers,
      collect() {
        this.set(
          {
            server_id: server.id,
            server_name: server.name,
            version: LATTICE_VERSION,
            nats_version: NATS_FEATURE_LEVEL,
          },
          1,
        );
      },
    });
    const stats = server.stats;
    gauge("lattice_connections", "Open client connections", () => server.clients.size);
    counter("lattice_connections_total", "Client connections accepted", () => stats.totalConnections);
    gauge("lattice_subscriptions", "Subscriptions across all accounts", () => server.subscriptionCount);
    counter("lattice_in_msgs_total", "Messages received from clients", () => stats.inMsgs);
    counter("lattice_out_msgs_total", "Messages delivered to clients", () => stats.outMsgs);
    counter("lattice_in_bytes_total", "Bytes received from clients", () => stats.inBytes);
    counter("lattice_out_bytes_total", "Bytes delivered to clients", () => stats.outBytes);
    counter(
      "lattice_slow_consumers_total",
      "Connections closed as slow consumers",
      () => stats.slowConsumers,
    );
    counter("lattice_stale_connections_total", "Connections closed as stale", () => stats.staleConnections);
    gauge("lattice_uptime_seconds", "Seconds since the server started", () => {
      return (Date.now() - server.startTime.getTime()) / 1000;
    });
    gauge("lattice_memory_rss_bytes", "Resident set size of the process", () => process.memoryUsage.rss());
    linkMetrics(server, registers);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: this server's metrics, then the process metrics. */
  async render(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }
}
