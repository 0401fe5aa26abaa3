// Reaching a server's HTTP monitoring endpoints (/varz, /connz, /jsz) for `lattice server info|check|report`,
// and timing a round trip.

import { createInbox, type NatsConnection } from "@nats-io/transport-node";
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

// ---------------------------------------------------------------- system account requests

/** The `server` block every system-account answer carries. */
export interface AnsweringServer {
  name: string;
  id: string;
  host?: string;
  cluster?: string;
  domain?: string;
  ver?: string;
  jetstream?: boolean;
}

/** One server's answer to a `$SYS.REQ.SERVER.PING.<ENDPOINT>` request. */
export interface ServerAnswer<T> {
  server: AnsweringServer;
  data?: T;
  statsz?: T;
  error?: { code?: number; description?: string };
  /** From the request to this answer. */
  rttMs: number;
}

/** After the first answer, the others are waited for until none arrived for this long. */
const STRAGGLER_MS = 500;

/**
 * Ask every server of the cluster (and whatever reaches it over routes, gateways and leaf nodes) through the
 * system account: `$SYS.REQ.SERVER.PING` (STATSZ) or `$SYS.REQ.SERVER.PING.<endpoint>`. Collects answers
 * until `expect` have arrived, until none came for a moment after the first, or until the timeout; sorted
 * by server name. No answer at all is an error that says a system-account user is needed.
 */
export async function pingServers<T>(
  nc: NatsConnection,
  endpoint: string | undefined,
  opts: { timeoutMs: number; expect?: number; body?: unknown },
): Promise<ServerAnswer<T>[]> {
  const subject = endpoint === undefined ? "$SYS.REQ.SERVER.PING" : `$SYS.REQ.SERVER.PING.${endpoint}`;
  const answers: ServerAnswer<T>[] = [];
  const started = performance.now();
  let noResponders = false;
  await new Promise<void>((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    const inbox = createInbox();
    const done = () => {
      clearTimeout(overall);
      if (quiet !== undefined) clearTimeout(quiet);
      sub.unsubscribe();
      resolve();
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err !== null) {
          done();
          return;
        }
        if (m.data.length === 0 && m.headers?.code === 503) {
          noResponders = true;
          done();
          return;
        }
        try {
          answers.push({
            ...(m.json() as Omit<ServerAnswer<T>, "rttMs">),
            rttMs: performance.now() - started,
          });
        } catch {
          return;
        }
        if (opts.expect !== undefined && answers.length >= opts.expect) {
          done();
          return;
        }
        if (quiet !== undefined) clearTimeout(quiet);
        quiet = setTimeout(done, STRAGGLER_MS);
      },
    });
    const overall = setTimeout(done, opts.timeoutMs);
    nc.publish(subject, opts.body === undefined ? "" : JSON.stringify(opts.body), { reply: inbox });
  });
  if (answers.length === 0) {
    throw new CliError(
      `no server answered ${subject}${noResponders ? " (no responders)" : ""}: it is served in the system ` +
        "account, so connect as one of its users (--user/--password, --creds or a context)",
      Exit.TIMEOUT,
    );
  }
  answers.sort((a, b) => (a.server.name < b.server.name ? -1 : a.server.name > b.server.name ? 1 : 0));
  return answers;
}
