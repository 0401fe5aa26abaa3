import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../version.js";
import type { MonitoredServer } from "./types.js";

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
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: this server's metrics, then the process metrics. */
  async render(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }
}
