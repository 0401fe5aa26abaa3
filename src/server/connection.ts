import type { Logger } from "../logger.js";
import { ERR_STALE_CONNECTION } from "../protocol/errors.js";
import type { Account } from "./account.js";
import { CloseReason } from "./close-reason.js";
import type { ServerOptions } from "./options.js";
import { type FlushQueue, Outbound } from "./outbound.js";
import { kindLabel, type ReceiverKind } from "./receiver.js";
import { type ServerStats, TrafficStats } from "./stats.js";
import type { Subscription } from "./subscription.js";
import type { Transport } from "./transport.js";

/** What every connection needs from the server it belongs to — and nothing more. */
export interface ConnectionContext {
  readonly options: ServerOptions;
  readonly logger: Logger;
  readonly flushQueue: FlushQueue;
  readonly stats: ServerStats;
  connectionClosed(conn: Connection): void;
}

/**
 * The pipeline every kind of connection shares: buffered output flushed once per event-loop turn,
 * backpressure and slow-consumer detection, liveness PINGs, traffic counters, and an orderly close with a
 * reason. Kinds (client now; routes, gateways and leaf nodes later) add their protocol on top.
 */
export abstract class Connection {
  abstract readonly kind: ReceiverKind;
  readonly stats = new TrafficStats();
  readonly start = new Date();
  lastActivity = Date.now();
  stop: Date | undefined;
  closeReason: CloseReason | undefined;
  closed = false;
  flushPending = false;
  account: Account | undefined;
  readonly subs = new Map<string, Subscription>();

  protected readonly out = new Outbound();
  private pingsOut = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private writeDeadlineTimer: NodeJS.Timeout | undefined;
  private receivedSincePing = false;
  /** Round-trip time of the last server PING, in ms. */
  rttMs = 0;
  private pingSentAt = 0;

  constructor(
    readonly cid: number,
    readonly transport: Transport,
    protected readonly ctx: ConnectionContext,
  ) {
    transport.onDrain(() => this.clearWriteDeadline());
    transport.onClose((err) => {
      if (!this.closed) this.close(err ? CloseReason.ReadError : CloseReason.ClientClosed);
    });
  }

  /** Bytes waiting to reach the peer: our buffer plus the socket's. */
  get pendingBytes(): number {
    return this.out.pending + this.transport.writableLength;
  }

  /** Queue raw protocol text for this turn's flush. */
  sendProto(text: string): void {
    if (this.closed) return;
    this.out.appendString(text);
    this.ctx.flushQueue.add(this);
  }

  /** Called once per turn by the flush queue. */
  flush(): void {
    if (this.out.pending === 0) return;
    const chunks = this.out.take();
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = this.transport.write(chunks[i]);
    if (!ok && this.writeDeadlineTimer === undefined && !this.closed) {
      this.writeDeadlineTimer = setTimeout(() => {
        this.writeDeadlineTimer = undefined;
        if (this.transport.writableLength > 0) this.slowConsumer(CloseReason.SlowConsumerWriteDeadline);
      }, this.ctx.options.writeDeadlineMs);
      this.writeDeadlineTimer.unref();
    }
  }

  /** After appending output: enforce max_pending and schedule the flush. */
  protected afterAppend(): void {
    if (this.out.pending + this.transport.writableLength > this.ctx.options.maxPending) {
      this.slowConsumer(CloseReason.SlowConsumerPendingBytes);
      return;
    }
    if (!this.flushPending) this.ctx.flushQueue.add(this);
  }

  protected slowConsumer(reason: CloseReason): void {
    if (this.closed) return;
    this.ctx.stats.slowConsumers++;
    this.ctx.logger.info(`${this.describe()} - Slow Consumer Detected: ${reason}`);
    // What is queued for a consumer that can't keep up is dropped, not flushed.
    this.out.discard();
    this.close(reason, undefined, false);
  }

  private clearWriteDeadline(): void {
    if (this.writeDeadlineTimer !== undefined) {
      clearTimeout(this.writeDeadlineTimer);
      this.writeDeadlineTimer = undefined;
    }
  }

  /** Note inbound traffic: it proves the peer is alive, so a scheduled PING can be skipped. */
  protected touch(): void {
    this.lastActivity = Date.now();
    this.receivedSincePing = true;
  }

  /** Start liveness checks: first PING soon after connect, then every ping_interval. */
  protected startPings(): void {
    const interval = this.pingIntervalMs();
    const first = Math.min(2000, interval);
    this.schedulePing(first + Math.floor(Math.random() * first * 0.2));
  }

  private schedulePing(delay: number): void {
    this.pingTimer = setTimeout(() => this.onPingTimer(), delay);
    this.pingTimer.unref();
  }

  private onPingTimer(): void {
    if (this.closed) return;
    if (this.pingsOut + 1 > this.maxPingsOut()) {
      this.ctx.stats.staleConnections++;
      this.ctx.logger.debug(`${this.describe()} - Stale ${kindLabel(this.kind)} Connection - Closing`);
      this.close(CloseReason.StaleConnection, ERR_STALE_CONNECTION);
      return;
    }
    if (this.receivedSincePing && this.pingsOut === 0) {
      this.receivedSincePing = false;
    } else {
      this.pingsOut++;
      this.pingSentAt = performance.now();
      this.sendProto("PING\r\n");
    }
    this.schedulePing(this.pingIntervalMs());
  }

  /** How often to PING a quiet peer (server links ping more often than clients). */
  protected pingIntervalMs(): number {
    return this.ctx.options.pingIntervalMs;
  }

  /** PINGs left unanswered before the peer counts as stale (routes may set their own). */
  protected maxPingsOut(): number {
    return this.ctx.options.pingMax;
  }

  protected pongReceived(): void {
    if (this.pingSentAt > 0) this.rttMs = performance.now() - this.pingSentAt;
    this.pingsOut = 0;
  }

  /**
   * End the connection. `errText` is sent as `-ERR '<text>'` first; `flushFirst` lets pending output
   * (including that error) reach the peer before the socket closes.
   */
  close(reason: CloseReason, errText?: string, flushFirst = true): void {
    if (this.closed) return;
    if (errText !== undefined) this.out.appendString(`-ERR '${errText}'\r\n`);
    this.closed = true;
    this.closeReason = reason;
    this.stop = new Date();
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.clearWriteDeadline();
    this.releaseSubscriptions();
    if (flushFirst && this.out.pending > 0) for (const chunk of this.out.take()) this.transport.write(chunk);
    if (flushFirst) this.transport.end();
    else this.transport.destroy();
    this.ctx.connectionClosed(this);
  }

  private releaseSubscriptions(): void {
    const account = this.account;
    for (const sub of this.subs.values()) {
      sub.closed = true;
      account?.removeSubscription(sub);
    }
  }

  describe(): string {
    return `${this.transport.remoteAddress}:${this.transport.remotePort} - cid:${this.cid}`;
  }
}
