import net from "node:net";
import tls from "node:tls";
import type { Logger } from "../logger.js";

/** Where to dial, and how to secure it. */
export interface DialTarget {
  host: string;
  port: number;
  /** Client-side TLS (a route, gateway or leaf block's `tls { }`); undefined = plain TCP. */
  tls?: tls.ConnectionOptions;
}

/** One connect attempt: `result` settles once; `cancel()` abandons it (destroying what it made). */
export interface PendingDial<T> {
  readonly result: Promise<T>;
  cancel(): void;
}

/** How to make one connection to a target (a socket, a websocket...). */
export type Dial<T> = (target: DialTarget, timeoutMs: number) => PendingDial<T>;

export interface RedialOptions<T> {
  /** Makes each attempt (`dialSocket` for plain TCP or TLS-first sockets). */
  dial: Dial<T>;
  /** Failed attempts in a row before giving up; 0 = never give up. */
  retries: number;
  /** First retry delay; doubled after each failure up to maxDelayMs, with ±20% jitter. */
  minDelayMs: number;
  maxDelayMs: number;
  /** A connect attempt that takes longer fails. */
  timeoutMs: number;
  logger: Logger;
  /** What is being dialled, for the logs ("route", "leafnode remote"...). */
  what: string;
}

/**
 * Dials a server link and keeps it up: after a failed attempt, or once the connection it made is lost
 * (`lost()`), it tries again with exponential back-off, until it succeeds, gives up after `retries`
 * failures in a row, or is stopped. The connection itself is the caller's (`onConnected`).
 */
export class Redialer<T> {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private pending: PendingDial<T> | undefined;
  private connectedAt = 0;
  /** Failed dials in a row (retries count these; a link that connects resets them). */
  private attempts = 0;
  /** A connection made by this dialer is up (until `lost()`). */
  connected = false;
  /** Successful connects, for monitoring (reconnects = connects - 1). */
  connects = 0;

  constructor(
    private target: DialTarget,
    private readonly opts: RedialOptions<T>,
    private readonly onConnected: (connection: T) => void,
    private readonly onGiveUp?: () => void,
  ) {}

  get url(): string {
    return `${this.target.host.includes(":") ? `[${this.target.host}]` : this.target.host}:${this.target.port}`;
  }

  /** Dial now (or after `delayMs`). */
  start(delayMs = 0): void {
    if (this.stopped || this.connected || this.pending !== undefined || this.timer !== undefined) return;
    if (delayMs <= 0) {
      this.attempt();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt();
    }, delayMs);
    this.timer.unref();
  }

  /** The connection this dialer made is gone: dial again after the back-off. */
  lost(): void {
    this.connected = false;
    // A link that drops right away (refused after connecting) backs off like a failed dial.
    if (Date.now() - this.connectedAt < 5000) this.failures++;
    else this.failures = 0;
    if (this.stopped) return;
    this.start(this.nextDelay());
  }

  /** Change where to dial (a peer that moved); takes effect on the next attempt. */
  retarget(target: DialTarget): void {
    this.target = target;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending?.cancel();
    this.pending = undefined;
  }

  private nextDelay(): number {
    const base = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** Math.min(this.failures, 16));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private attempt(): void {
    if (this.stopped) return;
    const pending = this.opts.dial(this.target, this.opts.timeoutMs);
    this.pending = pending;
    pending.result.then(
      (connection) => {
        if (this.pending !== pending) return;
        this.pending = undefined;
        this.connected = true;
        this.connectedAt = Date.now();
        this.attempts = 0;
        this.connects++;
        this.onConnected(connection);
      },
      (err: Error) => {
        if (this.pending !== pending) return;
        this.pending = undefined;
        this.failures++;
        this.attempts++;
        this.opts.logger.debug(`Error trying to connect to ${this.opts.what} ${this.url}: ${err.message}`);
        if (this.stopped) return;
        if (this.opts.retries > 0 && this.attempts >= this.opts.retries) {
          this.opts.logger.debug(
            `Giving up on ${this.opts.what} ${this.url} after ${this.failures} attempts`,
          );
          this.onGiveUp?.();
          return;
        }
        this.start(this.nextDelay());
      },
    );
  }
}

/** A TCP connection to the target, or TLS from the first byte when the target has `tls`. */
export function dialSocket(target: DialTarget, timeoutMs: number): PendingDial<net.Socket> {
  const t = target;
  const socket = t.tls
    ? tls.connect({ ...t.tls, host: t.host, port: t.port, servername: t.tls.servername ?? sniName(t.host) })
    : net.connect({ host: t.host, port: t.port });
  const result = new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(new Error("connect timeout")), timeoutMs);
    timer.unref();
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once("error", fail);
    socket.once(t.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socket);
    });
  });
  // A cancelled attempt's rejection has no one waiting for it.
  result.catch(() => {});
  return { result, cancel: () => socket.destroy() };
}

/** The SNI name for a host: none for an IP address. */
export function sniName(host: string): string | undefined {
  return net.isIP(host) === 0 ? host : undefined;
}
