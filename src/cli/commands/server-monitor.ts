// Reaching a server's HTTP monitoring endpoints (/varz, /connz, /jsz) for `lattice server info|check|report`,
// and timing a round trip.

import type { NatsConnection } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import { resolveConnection } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";

// ---------------------------------------------------------------- monitoring endpoint

export interface MonitorTarget {
  url: string;
  /** Given by --monitor or the context, rather than guessed from the server URL. */
  explicit: boolean;
}

export function monitorTarget(cmd: Command, explicit: string | undefined): MonitorTarget {
  if (explicit !== undefined) return { url: explicit.replace(/\/+$/, ""), explicit: true };
  const conn = resolveConnection(cmd);
  if (conn.monitor !== undefined && conn.monitor !== "")
    return { url: conn.monitor.replace(/\/+$/, ""), explicit: true };
  let host = "127.0.0.1";
  try {
    const first = conn.servers[0] ?? "";
    host = new URL(first.includes("://") ? first : `nats://${first}`).hostname || host;
  } catch {
    // keep the loopback default
  }
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:8222`, explicit: false };
}

export async function fetchMonitor<T>(target: MonitorTarget, path: string, timeoutMs: number): Promise<T> {
  const url = `${target.url}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why =
      (err as Error).name === "TimeoutError"
        ? "timed out"
        : (((err as Error).cause as Error)?.message ?? (err as Error).message);
    throw new CliError(
      `monitoring endpoint ${url} is not reachable (${why}); start the server with -m <port> and pass --monitor http://host:port`,
      Exit.CONNECT,
    );
  }
  if (!res.ok) throw new CliError(`monitoring endpoint ${url} answered ${res.status} ${res.statusText}`);
  return (await res.json()) as T;
}

export const monitorOption = () =>
  new Option(
    "--monitor <url>",
    "HTTP monitoring endpoint (default: the server's host, port 8222, or the context's)",
  );

// ---------------------------------------------------------------- info

/** A PING/PONG round trip timed with sub-millisecond precision. */
export async function measureRtt(nc: NatsConnection): Promise<number> {
  const started = performance.now();
  await nc.flush();
  return performance.now() - started;
}

export interface Varz {
  server_id?: string;
  server_name?: string;
  version?: string;
  start?: string;
  now?: string;
  uptime?: string;
  mem?: number;
  cores?: number;
  cpu?: number;
  connections?: number;
  total_connections?: number;
  routes?: number;
  leafnodes?: number;
  subscriptions?: number;
  in_msgs?: number;
  out_msgs?: number;
  in_bytes?: number;
  out_bytes?: number;
  slow_consumers?: number;
  max_connections?: number;
  http_port?: number;
  jetstream?: { config?: { max_memory?: number; max_storage?: number; store_dir?: string } };
}
