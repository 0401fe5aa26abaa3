import { appendFileSync } from "node:fs";

// nats-server style log lines: `[pid] 2026/11/26 11:00:00.000000 [INF] message`.
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export interface LoggerOptions {
  debug?: boolean;
  trace?: boolean;
  logtime?: boolean;
  logFile?: string;
  quiet?: boolean;
}

const TAGS: Record<LogLevel, string> = {
  fatal: "FTL",
  error: "ERR",
  warn: "WRN",
  info: "INF",
  debug: "DBG",
  trace: "TRC",
};

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function timestamp(d: Date): string {
  const micros = String(d.getMilliseconds() * 1000).padStart(6, "0");
  return `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${micros}`;
}

export class Logger {
  debugEnabled: boolean;
  traceEnabled: boolean;
  private readonly prefix = `[${process.pid}] `;

  constructor(private readonly opts: LoggerOptions = {}) {
    this.debugEnabled = opts.debug === true;
    this.traceEnabled = opts.trace === true;
  }

  /** Apply new levels (config reload). */
  setLevels(debug: boolean, trace: boolean): void {
    this.debugEnabled = debug;
    this.traceEnabled = trace;
  }

  fatal(msg: string): void {
    this.write("fatal", msg);
  }
  error(msg: string): void {
    this.write("error", msg);
  }
  warn(msg: string): void {
    this.write("warn", msg);
  }
  info(msg: string): void {
    this.write("info", msg);
  }
  debug(msg: string): void {
    if (this.debugEnabled) this.write("debug", msg);
  }
  trace(msg: string): void {
    if (this.traceEnabled) this.write("trace", msg);
  }

  private write(level: LogLevel, msg: string): void {
    if (this.opts.quiet && level !== "fatal" && level !== "error") return;
    const time = this.opts.logtime === false ? "" : `${timestamp(new Date())} `;
    const line = `${this.prefix}${time}[${TAGS[level]}] ${msg}\n`;
    if (this.opts.logFile) {
      try {
        appendFileSync(this.opts.logFile, line);
        return;
      } catch {
        // fall through to stderr so the message is not lost
      }
    }
    process.stderr.write(line);
  }
}
