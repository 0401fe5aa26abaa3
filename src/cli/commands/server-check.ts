// lattice server check: health checks in the monitoring-plugin convention (0 OK, 1 WARNING, 2 CRITICAL,
// 3 UNKNOWN), with nagios, text or JSON output.

import type { JetStreamAccountStats, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import { action, examples } from "../command-kit.js";
import { commandName, connectWith, resolveConnection, Session } from "../connect-options.js";
import { CliError, describeError, Exit } from "../errors.js";
import { color, humanBytes, humanCount, humanDuration, out, printJson } from "../output.js";
import { parseDuration, parseInteger } from "../parse.js";
import { measureRtt } from "./server-monitor.js";

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
    )
    .addOption(new Option("--json", "the same as --format json").implies({ format: "json" }));
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

export function registerCheck(server: Command): void {
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
