// lattice server info|ping|check|report: look at a running server from the outside, through what any client
// can reach without the system account: the INFO a server sends on connect, the JetStream API, and the HTTP
// monitoring endpoints (/varz, /connz, /jsz). `server check` speaks the monitoring-plugin convention.

import type { JetStreamAccountStats, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import { action, examples, sleep } from "../command-kit.js";
import { commandName, connectWith, resolveConnection, Session, withSession } from "../connect-options.js";
import { CliError, describeError, Exit } from "../errors.js";
import {
  type Cell,
  color,
  humanBytes,
  humanCount,
  humanDuration,
  humanTime,
  note,
  out,
  printJson,
  printSections,
  printTable,
  type Section,
} from "../output.js";
import { parseDuration, parseInteger, parsePositive } from "../parse.js";

// ---------------------------------------------------------------- monitoring endpoint

interface MonitorTarget {
  url: string;
  /** Given by --monitor or the context, rather than guessed from the server URL. */
  explicit: boolean;
}

function monitorTarget(cmd: Command, explicit: string | undefined): MonitorTarget {
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

async function fetchMonitor<T>(target: MonitorTarget, path: string, timeoutMs: number): Promise<T> {
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

const monitorOption = () =>
  new Option(
    "--monitor <url>",
    "HTTP monitoring endpoint (default: the server's host, port 8222, or the context's)",
  );

// ---------------------------------------------------------------- info

/** A PING/PONG round trip timed with sub-millisecond precision. */
async function measureRtt(nc: NatsConnection): Promise<number> {
  const started = performance.now();
  await nc.flush();
  return performance.now() - started;
}

interface Varz {
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

function registerInfo(server: Command): void {
  const info = server
    .command("info")
    .description("show what the server says about itself: its INFO and, when reachable, its /varz statistics")
    .addOption(monitorOption())
    .option("--json", "print INFO, /varz and JetStream account information as JSON")
    .action(
      action(async (opts: { monitor?: string; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const si = s.nc.info;
          if (si === undefined) throw new CliError("the server sent no INFO");
          const rtt = await measureRtt(s.nc);
          const target = monitorTarget(cmd, opts.monitor);
          let varz: Varz | undefined;
          let varzNote: string | undefined;
          try {
            varz = await fetchMonitor<Varz>(target, "/varz", s.conn.timeoutMs);
          } catch (err) {
            if (target.explicit) throw err;
            varzNote = `no statistics: ${target.url}/varz is not reachable (pass --monitor http://host:port)`;
          }
          let js: JetStreamAccountStats | undefined;
          if (si.jetstream) {
            try {
              js = await (await s.jsm()).getAccountInfo();
            } catch {
              js = undefined;
            }
          }
          if (opts.json) {
            printJson({ info: si, rtt_ms: rtt, varz, jetstream_account: js });
            return;
          }
          out(
            color.bold(
              `Server information for ${si.server_name}${si.server_name !== si.server_id ? ` (${si.server_id})` : ""}`,
            ),
          );
          out();
          const sections: Section[] = [
            {
              title: "Process Details",
              rows: [
                ["Version", si.version],
                si.git_commit ? ["Git Commit", si.git_commit] : undefined,
                ["Runtime", si.go],
                ["Protocol", si.proto],
                ["Listening On", `${si.host}:${si.port}`],
                ["Max Payload", humanBytes(si.max_payload)],
                ["Headers", String(si.headers === true)],
                ["JetStream", String(si.jetstream === true)],
                ["Auth Required", String(si.auth_required === true)],
                ["TLS Required", String(si.tls_required === true)],
                si.cluster ? ["Cluster", si.cluster] : undefined,
                si.ldm ? ["Lame Duck Mode", "true"] : undefined,
              ],
            },
            {
              title: "This Connection",
              rows: [
                ["Connected URL", s.nc.getServer()],
                ["Client ID", si.client_id],
                si.client_ip ? ["Client IP", si.client_ip] : undefined,
                ["RTT", humanDuration(rtt)],
              ],
            },
          ];
          if (varz !== undefined) {
            sections.push({
              title: `Statistics (${target.url}/varz)`,
              rows: [
                varz.start ? ["Started", humanTime(varz.start)] : undefined,
                varz.uptime ? ["Uptime", varz.uptime] : undefined,
                varz.cpu !== undefined
                  ? ["CPU", `${varz.cpu}%${varz.cores ? ` of ${varz.cores} cores` : ""}`]
                  : undefined,
                varz.mem !== undefined ? ["Memory", humanBytes(varz.mem)] : undefined,
                ["Connections", humanCount(varz.connections)],
                ["Total Connections", humanCount(varz.total_connections)],
                ["Subscriptions", humanCount(varz.subscriptions)],
                ["Messages In", humanCount(varz.in_msgs)],
                ["Messages Out", humanCount(varz.out_msgs)],
                ["Bytes In", humanBytes(varz.in_bytes)],
                ["Bytes Out", humanBytes(varz.out_bytes)],
                ["Slow Consumers", humanCount(varz.slow_consumers)],
              ],
            });
          }
          if (js !== undefined) {
            sections.push({
              title: "JetStream (this account)",
              rows: [
                js.domain ? ["Domain", js.domain] : undefined,
                ["Memory", `${humanBytes(js.memory)} of ${humanBytes(js.limits.max_memory)}`],
                ["Storage", `${humanBytes(js.storage)} of ${humanBytes(js.limits.max_storage)}`],
                ["Streams", `${humanCount(js.streams)} of ${humanCount(js.limits.max_streams, true)}`],
                ["Consumers", `${humanCount(js.consumers)} of ${humanCount(js.limits.max_consumers, true)}`],
                ["API Requests", humanCount(js.api.total)],
                ["API Errors", humanCount(js.api.errors)],
              ],
            });
          }
          printSections(sections);
          if (varzNote !== undefined) note(color.dim(varzNote, process.stderr));
        });
      }),
    );
  examples(info, "lattice server info", "lattice server info --monitor http://127.0.0.1:8222 --json");
}

// ---------------------------------------------------------------- ping

function registerPing(server: Command): void {
  const ping = server
    .command("ping")
    .description("measure the round trip to the server (PING/PONG)")
    .option("--count <n>", "number of pings", parsePositive, 5)
    .option("--interval <duration>", "time between pings", parseDuration, 1000)
    .option("--json", "print the round trips as JSON")
    .action(
      action(async (opts: { count: number; interval: number; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const rtts: number[] = [];
          const url = s.nc.getServer();
          for (let i = 0; i < opts.count; i++) {
            if (i > 0) await sleep(opts.interval);
            const rtt = await measureRtt(s.nc);
            rtts.push(rtt);
            if (!opts.json) out(`${s.nc.info?.server_name ?? url}: seq=${i + 1} rtt=${humanDuration(rtt)}`);
          }
          const min = Math.min(...rtts);
          const max = Math.max(...rtts);
          const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
          if (opts.json) {
            printJson({
              server: url,
              server_name: s.nc.info?.server_name,
              rtt_ms: rtts,
              min_ms: min,
              avg_ms: avg,
              max_ms: max,
            });
            return;
          }
          out();
          out(`--- ${url} ping statistics ---`);
          out(
            `${rtts.length} pings, rtt min/avg/max = ${humanDuration(min)}/${humanDuration(avg)}/${humanDuration(max)}`,
          );
        });
      }),
    );
  examples(ping, "lattice server ping", "lattice server ping --count 10 --interval 200ms");
}

// ---------------------------------------------------------------- check

const STATUS_NAMES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
const Status = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

interface Perf {
  name: string;
  value: number;
  unit?: string;
  warn?: number;
  crit?: number;
}

/** The outcome of a check: the worst status wins; messages and performance data accumulate. */
class CheckResult {
  status = 0;
  readonly warnings: string[] = [];
  readonly criticals: string[] = [];
  readonly oks: string[] = [];
  readonly unknowns: string[] = [];
  readonly perf: Perf[] = [];

  constructor(readonly name: string) {}

  ok(msg: string): void {
    this.oks.push(msg);
  }
  warn(msg: string): void {
    this.warnings.push(msg);
    this.status = Math.max(this.status, Status.WARNING);
  }
  critical(msg: string): void {
    this.criticals.push(msg);
    this.status = Math.max(this.status, Status.CRITICAL);
  }
  unknown(msg: string): void {
    this.unknowns.push(msg);
    this.status = Math.max(this.status, Status.UNKNOWN);
  }

  /** Compare against "higher is worse" thresholds; undefined/negative thresholds are off. */
  threshold(
    label: string,
    value: number,
    warn: number | undefined,
    crit: number | undefined,
    show: string,
  ): void {
    if (crit !== undefined && crit >= 0 && value >= crit) this.critical(`${label} ${show} >= ${crit}`);
    else if (warn !== undefined && warn >= 0 && value >= warn) this.warn(`${label} ${show} >= ${warn}`);
    else this.ok(`${label} ${show}`);
  }

  get statusName(): string {
    return STATUS_NAMES[this.status];
  }

  summary(): string {
    const parts = [
      ...this.criticals.map((m) => `Crit:${m}`),
      ...this.warnings.map((m) => `Warn:${m}`),
      ...this.unknowns.map((m) => `Unknown:${m}`),
    ];
    if (parts.length === 0) parts.push(...this.oks.map((m) => `OK:${m}`));
    return parts.join(", ");
  }

  nagios(): string {
    const perf = this.perf
      .map(
        (p) =>
          `${p.name}=${fmtPerf(p.value)}${p.unit ?? ""};${p.warn !== undefined ? fmtPerf(p.warn) : ""};${p.crit !== undefined ? fmtPerf(p.crit) : ""}`,
      )
      .join(" ");
    return `${this.statusName} ${this.name} ${this.summary()}${perf ? ` | ${perf}` : ""}`;
  }

  json(): object {
    return {
      check: this.name,
      status: this.statusName,
      status_code: this.status,
      ok: this.oks,
      warnings: this.warnings,
      criticals: this.criticals,
      unknowns: this.unknowns,
      perf_data: this.perf,
    };
  }

  text(): string {
    const lines = [`${this.name}: ${colorStatus(this.status)}`, ""];
    for (const m of this.criticals) lines.push(`  ${color.red("CRITICAL")} ${m}`);
    for (const m of this.warnings) lines.push(`  ${color.yellow("WARNING")}  ${m}`);
    for (const m of this.unknowns) lines.push(`  UNKNOWN  ${m}`);
    for (const m of this.oks) lines.push(`  ${color.green("OK")}       ${m}`);
    return lines.join("\n");
  }
}

function colorStatus(status: number): string {
  const n = STATUS_NAMES[status];
  return status === 0 ? color.green(n) : status === 1 ? color.yellow(n) : color.red(n);
}

function fmtPerf(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

type CheckFormat = "nagios" | "json" | "text";

function emit(result: CheckResult, format: CheckFormat): number {
  if (format === "json") printJson(result.json());
  else if (format === "text") out(result.text());
  else out(result.nagios());
  return result.status;
}

function checkCommand(check: Command, name: string, description: string): Command {
  return check
    .command(name)
    .description(description)
    .addOption(
      new Option("--format <format>", "output format").choices(["nagios", "json", "text"]).default("nagios"),
    );
}

/**
 * Run a check: connection failures are CRITICAL (the server is down, which is what a monitor wants to know),
 * other unexpected failures UNKNOWN.
 */
async function runCheck(
  cmd: Command,
  name: string,
  format: CheckFormat,
  fn: (s: Session, r: CheckResult) => Promise<void>,
): Promise<number> {
  const r = new CheckResult(name);
  let session: Session | undefined;
  try {
    const conn = resolveConnection(cmd);
    const nc = await connectWith(conn, commandName(cmd));
    session = new Session(nc, conn, false);
    await fn(session, r);
  } catch (err) {
    const { message, exitCode } = describeError(err);
    if (exitCode === Exit.CONNECT || exitCode === Exit.TIMEOUT) r.critical(message);
    else if (exitCode === Exit.USAGE) throw err;
    else r.unknown(message);
  } finally {
    await session?.close();
  }
  return emit(r, format);
}

function registerCheck(server: Command): void {
  const check = server
    .command("check")
    .description("health checks for monitoring systems: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN");
  examples(
    check,
    "lattice server check connection",
    "lattice server check jetstream",
    "lattice server check stream ORDERS --msgs-warning 1000",
  );

  const conn = checkCommand(check, "connection", "connect, ping and make a request; alert on slow answers")
    .option("--connect-warning <duration>", "warn when connecting takes this long", parseDuration, 500)
    .option("--connect-critical <duration>", "critical when connecting takes this long", parseDuration, 1000)
    .option("--rtt-warning <duration>", "warn at this round-trip time", parseDuration, 500)
    .option("--rtt-critical <duration>", "critical at this round-trip time", parseDuration, 1000)
    .option("--req-warning <duration>", "warn when a request round trip takes this long", parseDuration, 500)
    .option(
      "--req-critical <duration>",
      "critical when a request round trip takes this long",
      parseDuration,
      1000,
    )
    .action(
      action(
        async (
          opts: {
            format: CheckFormat;
            connectWarning: number;
            connectCritical: number;
            rttWarning: number;
            rttCritical: number;
            reqWarning: number;
            reqCritical: number;
          },
          cmd: Command,
        ) => {
          const r = new CheckResult("Connection");
          let nc: NatsConnection | undefined;
          try {
            const c = resolveConnection(cmd);
            const started = performance.now();
            nc = await connectWith(c, commandName(cmd));
            const connectMs = performance.now() - started;
            r.perf.push({
              name: "connect_time",
              value: connectMs / 1000,
              unit: "s",
              warn: opts.connectWarning / 1000,
              crit: opts.connectCritical / 1000,
            });
            r.threshold(
              "connected to",
              connectMs,
              opts.connectWarning,
              opts.connectCritical,
              `${nc.getServer()} in ${humanDuration(connectMs)}`,
            );
            const rtt = await measureRtt(nc);
            r.perf.push({
              name: "rtt",
              value: rtt / 1000,
              unit: "s",
              warn: opts.rttWarning / 1000,
              crit: opts.rttCritical / 1000,
            });
            r.threshold("rtt", rtt, opts.rttWarning, opts.rttCritical, humanDuration(rtt));
            const subject = `_LATTICE_CHECK.${Math.random().toString(36).slice(2)}`;
            const sub = nc.subscribe(subject, {
              max: 1,
              callback: (_e, m) => {
                m.respond(m.data);
              },
            });
            await nc.flush();
            const reqStart = performance.now();
            await nc.request(subject, "ping", { timeout: c.timeoutMs });
            const reqMs = performance.now() - reqStart;
            sub.unsubscribe();
            r.perf.push({
              name: "request_time",
              value: reqMs / 1000,
              unit: "s",
              warn: opts.reqWarning / 1000,
              crit: opts.reqCritical / 1000,
            });
            r.threshold("request", reqMs, opts.reqWarning, opts.reqCritical, humanDuration(reqMs));
          } catch (err) {
            const { message, exitCode } = describeError(err);
            if (exitCode === Exit.USAGE) throw err;
            r.critical(message);
          } finally {
            await nc?.close().catch(() => {});
          }
          return emit(r, opts.format);
        },
      ),
    );
  examples(
    conn,
    "lattice server check connection",
    "lattice server check connection --rtt-warning 50ms --rtt-critical 200ms --format json",
  );

  const js = checkCommand(
    check,
    "jetstream",
    "JetStream is available for this account; alert on usage against its limits",
  )
    .option("--mem-warning <percent>", "warn at this % of the memory limit", parseInteger, 75)
    .option("--mem-critical <percent>", "critical at this % of the memory limit", parseInteger, 90)
    .option("--store-warning <percent>", "warn at this % of the storage limit", parseInteger, 75)
    .option("--store-critical <percent>", "critical at this % of the storage limit", parseInteger, 90)
    .option("--streams-warning <percent>", "warn at this % of the stream limit", parseInteger, -1)
    .option("--streams-critical <percent>", "critical at this % of the stream limit", parseInteger, -1)
    .option("--consumers-warning <percent>", "warn at this % of the consumer limit", parseInteger, -1)
    .option("--consumers-critical <percent>", "critical at this % of the consumer limit", parseInteger, -1)
    .action(
      action(
        async (
          opts: {
            format: CheckFormat;
            memWarning: number;
            memCritical: number;
            storeWarning: number;
            storeCritical: number;
            streamsWarning: number;
            streamsCritical: number;
            consumersWarning: number;
            consumersCritical: number;
          },
          cmd: Command,
        ) =>
          runCheck(cmd, "JetStream", opts.format, async (s, r) => {
            let ai: JetStreamAccountStats;
            try {
              ai = await (await s.jsm()).getAccountInfo();
            } catch (err) {
              r.critical(`JetStream is not available: ${describeError(err).message}`);
              return;
            }
            const usage = (
              label: string,
              perfName: string,
              used: number,
              max: number,
              warn: number,
              crit: number,
              fmt: (n: number) => string,
            ) => {
              r.perf.push({ name: perfName, value: used, unit: perfName.endsWith("bytes") ? "B" : "" });
              if (max <= 0) {
                r.ok(`${label} ${fmt(used)}`);
                return;
              }
              const pct = Math.round((used / max) * 100);
              r.perf.push({
                name: `${perfName}_pct`,
                value: pct,
                unit: "%",
                warn: warn >= 0 ? warn : undefined,
                crit: crit >= 0 ? crit : undefined,
              });
              r.threshold(label, pct, warn, crit, `${fmt(used)} of ${fmt(max)} (${pct}%)`);
            };
            usage(
              "memory",
              "memory_bytes",
              ai.memory,
              ai.limits.max_memory,
              opts.memWarning,
              opts.memCritical,
              humanBytes,
            );
            usage(
              "storage",
              "storage_bytes",
              ai.storage,
              ai.limits.max_storage,
              opts.storeWarning,
              opts.storeCritical,
              humanBytes,
            );
            usage(
              "streams",
              "streams",
              ai.streams,
              ai.limits.max_streams,
              opts.streamsWarning,
              opts.streamsCritical,
              (n) => humanCount(n),
            );
            usage(
              "consumers",
              "consumers",
              ai.consumers,
              ai.limits.max_consumers,
              opts.consumersWarning,
              opts.consumersCritical,
              (n) => humanCount(n),
            );
          }),
      ),
    );
  examples(
    js,
    "lattice server check jetstream",
    "lattice server check jetstream --store-warning 60 --store-critical 80",
  );

  const st = checkCommand(
    check,
    "stream",
    "a stream exists and its message count, last message age and lag are healthy",
  )
    .argument("[stream]", "stream name (or --stream)")
    .option("--stream <name>", "stream name")
    .option(
      "--msgs-warning <n>",
      "warn at this many messages (below it when lower than --msgs-critical)",
      parseInteger,
    )
    .option(
      "--msgs-critical <n>",
      "critical at this many messages (below it when lower than --msgs-warning)",
      parseInteger,
    )
    .option("--last-msg-warning <duration>", "warn when the newest message is older than this", parseDuration)
    .option(
      "--last-msg-critical <duration>",
      "critical when the newest message is older than this",
      parseDuration,
    )
    .option("--lag-warning <n>", "warn when a mirror or source lags this many messages", parseInteger)
    .option("--lag-critical <n>", "critical when a mirror or source lags this many messages", parseInteger)
    .action(
      action(
        async (
          arg: string | undefined,
          opts: {
            format: CheckFormat;
            stream?: string;
            msgsWarning?: number;
            msgsCritical?: number;
            lastMsgWarning?: number;
            lastMsgCritical?: number;
            lagWarning?: number;
            lagCritical?: number;
          },
          cmd: Command,
        ) => {
          const name = arg ?? opts.stream;
          if (name === undefined)
            throw new CliError("name the stream to check (argument or --stream)", Exit.USAGE);
          return runCheck(cmd, `Stream ${name}`, opts.format, async (s, r) => {
            let si: StreamInfo;
            try {
              si = await (await s.jsm()).streams.info(name);
            } catch (err) {
              r.critical(describeError(err).message);
              return;
            }
            const msgs = si.state.messages;
            r.perf.push({ name: "messages", value: msgs, warn: opts.msgsWarning, crit: opts.msgsCritical });
            r.perf.push({ name: "bytes", value: si.state.bytes, unit: "B" });
            const w = opts.msgsWarning;
            const c = opts.msgsCritical;
            const lowIsBad = w !== undefined && c !== undefined && c < w;
            if (lowIsBad) {
              if (msgs <= c) r.critical(`${humanCount(msgs)} messages <= ${c}`);
              else if (msgs <= w) r.warn(`${humanCount(msgs)} messages <= ${w}`);
              else r.ok(`${humanCount(msgs)} messages`);
            } else {
              r.threshold("messages", msgs, w, c, humanCount(msgs));
            }
            if (opts.lastMsgWarning !== undefined || opts.lastMsgCritical !== undefined) {
              const lastTs = si.state.last_seq > 0 ? new Date(si.state.last_ts).getTime() : Number.NaN;
              if (Number.isNaN(lastTs)) {
                r.critical("no message was ever stored");
              } else {
                const age = Date.now() - lastTs;
                r.perf.push({
                  name: "last_msg_age",
                  value: age / 1000,
                  unit: "s",
                  warn: opts.lastMsgWarning && opts.lastMsgWarning / 1000,
                  crit: opts.lastMsgCritical && opts.lastMsgCritical / 1000,
                });
                r.threshold(
                  "last message",
                  age,
                  opts.lastMsgWarning,
                  opts.lastMsgCritical,
                  `${humanDuration(age)} ago`,
                );
              }
            }
            const upstreams = [...(si.mirror ? [si.mirror] : []), ...(si.sources ?? [])];
            for (const u of upstreams) {
              r.perf.push({
                name: `lag_${u.name}`,
                value: u.lag,
                warn: opts.lagWarning,
                crit: opts.lagCritical,
              });
              r.threshold(`${u.name} lag`, u.lag, opts.lagWarning, opts.lagCritical, humanCount(u.lag));
            }
          });
        },
      ),
    );
  examples(
    st,
    "lattice server check stream ORDERS",
    "lattice server check stream ORDERS --msgs-warning 10000 --msgs-critical 50000",
    "lattice server check stream ORDERS --last-msg-warning 5m --last-msg-critical 1h --format text",
  );
}

// ---------------------------------------------------------------- report

interface Connz {
  now?: string;
  num_connections: number;
  total: number;
  connections: Array<{
    cid: number;
    kind?: string;
    ip: string;
    port: number;
    start: string;
    last_activity?: string;
    rtt?: string;
    uptime?: string;
    idle?: string;
    pending_bytes?: number;
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
    subscriptions: number;
    name?: string;
    lang?: string;
    version?: string;
    account?: string;
    authorized_user?: string;
  }>;
}

interface Jsz {
  server_id: string;
  disabled?: boolean;
  config?: { max_memory?: number; max_storage?: number; store_dir?: string };
  memory: number;
  storage: number;
  reserved_memory?: number;
  reserved_storage?: number;
  accounts?: number;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  api?: { total: number; errors: number };
}

const CONN_SORTS = [
  "cid",
  "start",
  "subs",
  "pending",
  "msgs_to",
  "msgs_from",
  "bytes_to",
  "bytes_from",
  "last",
  "idle",
  "uptime",
  "rtt",
];

function registerReport(server: Command): void {
  const report = server
    .command("report")
    .description("tabular reports from the monitoring endpoint and the JetStream API");
  examples(report, "lattice server report connections", "lattice server report jetstream");

  const conns = report
    .command("connections")
    .alias("conns")
    .description("client connections with their traffic (from /connz)")
    .addOption(monitorOption())
    .addOption(new Option("--sort <field>", "sort by").choices(CONN_SORTS).default("cid"))
    .option("--top <n>", "show this many connections", parsePositive, 100)
    .option("--json", "print the /connz answer as JSON")
    .action(
      action(async (opts: { monitor?: string; sort: string; top: number; json?: boolean }, cmd: Command) => {
        const target = monitorTarget(cmd, opts.monitor);
        const timeoutMs = resolveConnection(cmd).timeoutMs;
        const connz = await fetchMonitor<Connz>(
          target,
          `/connz?sort=${opts.sort}&limit=${opts.top}&auth=true`,
          timeoutMs,
        );
        if (opts.json) {
          printJson(connz);
          return;
        }
        if (connz.connections.length === 0) {
          out(`No client connections (${target.url})`);
          return;
        }
        const rows: Cell[][] = connz.connections.map((c) => [
          c.cid,
          c.name ?? "",
          c.account ?? "",
          `${c.ip}:${c.port}`,
          c.rtt ?? "",
          c.uptime ?? "",
          c.subscriptions,
          c.in_msgs,
          c.out_msgs,
          humanBytes(c.in_bytes),
          humanBytes(c.out_bytes),
          c.lang ? `${c.lang} ${c.version ?? ""}`.trim() : "",
        ]);
        const sum = (f: (c: Connz["connections"][number]) => number) =>
          connz.connections.reduce((a, c) => a + f(c), 0);
        if (rows.length > 0) {
          rows.push([
            "",
            color.bold("Totals"),
            "",
            "",
            "",
            "",
            sum((c) => c.subscriptions),
            sum((c) => c.in_msgs),
            sum((c) => c.out_msgs),
            humanBytes(sum((c) => c.in_bytes)),
            humanBytes(sum((c) => c.out_bytes)),
            "",
          ]);
        }
        printTable(
          [
            "CID",
            "Name",
            "Account",
            "Address",
            "RTT",
            "Uptime",
            "Subs",
            "Msgs In",
            "Msgs Out",
            "Bytes In",
            "Bytes Out",
            "Client",
          ],
          rows,
          `Connections (${connz.num_connections} shown of ${connz.total}, from ${target.url})`,
        );
      }),
    );
  examples(
    conns,
    "lattice server report connections",
    "lattice server report connections --sort bytes_to --top 10 --monitor http://nats1:8222",
  );

  const js = report
    .command("jetstream")
    .alias("js")
    .description(
      "JetStream usage: the server's totals (from /jsz, or the account when that is unreachable) and every stream",
    )
    .addOption(monitorOption())
    .option("--json", "print the report as JSON")
    .action(
      action(async (opts: { monitor?: string; json?: boolean }, cmd: Command) => {
        const target = monitorTarget(cmd, opts.monitor);
        await withSession(cmd, async (s) => {
          let jsz: Jsz | undefined;
          let fallback: string | undefined;
          try {
            jsz = await fetchMonitor<Jsz>(target, "/jsz", s.conn.timeoutMs);
          } catch (err) {
            if (target.explicit) throw err;
            fallback = `${target.url}/jsz is not reachable: showing this account's usage (pass --monitor for the server's)`;
          }
          const jsm = await s.jsm();
          const account = await jsm.getAccountInfo();
          const streams: StreamInfo[] = [];
          for await (const si of jsm.streams.list()) streams.push(si);
          streams.sort((a, b) => a.config.name.localeCompare(b.config.name));
          if (opts.json) {
            printJson({ jsz, account, streams });
            return;
          }
          if (jsz !== undefined) {
            printTable(
              ["Server", "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API Req", "API Err"],
              [
                [
                  s.nc.info?.server_name ?? jsz.server_id,
                  jsz.streams,
                  jsz.consumers,
                  jsz.messages,
                  humanBytes(jsz.bytes),
                  humanBytes(jsz.memory),
                  humanBytes(jsz.storage),
                  jsz.api?.total ?? 0,
                  jsz.api?.errors ?? 0,
                ],
              ],
              `JetStream Summary (${target.url}/jsz)`,
            );
          } else {
            printTable(
              ["Account", "Streams", "Consumers", "Memory", "Storage", "API Req", "API Err"],
              [
                [
                  "(this account)",
                  account.streams,
                  account.consumers,
                  `${humanBytes(account.memory)} / ${humanBytes(account.limits.max_memory)}`,
                  `${humanBytes(account.storage)} / ${humanBytes(account.limits.max_storage)}`,
                  account.api.total,
                  account.api.errors,
                ],
              ],
              "JetStream Summary (account)",
            );
          }
          out();
          if (streams.length === 0) out("No streams defined");
          else
            printTable(
              ["Stream", "Storage", "Replicas", "Consumers", "Messages", "Bytes", "Deleted", "Last Message"],
              streams.map((si) => [
                si.config.name,
                si.config.storage === "memory" ? "Memory" : "File",
                si.config.num_replicas,
                si.state.consumer_count,
                si.state.messages,
                humanBytes(si.state.bytes),
                si.state.num_deleted ?? 0,
                si.state.last_seq > 0 ? humanTime(si.state.last_ts) : "never",
              ]),
              `Streams (${streams.length})`,
            );
          if (fallback !== undefined) note(color.dim(fallback, process.stderr));
        });
      }),
    );
  examples(js, "lattice server report jetstream", "lattice server report jetstream --json");
}

export function registerServerInfo(program: Command): void {
  const server = program
    .command("server")
    .description(
      "run a server (`lattice server [nats-server flags]`), or look at one: info, ping, check, report",
    );
  server.addHelpText(
    "after",
    "\nRunning a server takes nats-server's flags (see `lattice server --help`).\n\nExamples:\n  $ lattice server -p 4222 -m 8222 -js -sd ./data\n  $ lattice server info\n  $ lattice server check connection\n",
  );
  registerInfo(server);
  registerPing(server);
  registerCheck(server);
  registerReport(server);
}
