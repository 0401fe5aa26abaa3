import { type Token, tokenText } from "../protocol/encode.js";
import type { Account } from "./account.js";
import { Message } from "./message.js";
import type { Router } from "./router.js";
import { Subscription, type SubscriptionOwner } from "./subscription.js";

/** A message as an in-process handler sees it; the byte views are only valid during the call. */
export interface InternalMessage {
  readonly subject: string;
  readonly reply: string | undefined;
  /** The header block (`NATS/1.0\r\n...\r\n\r\n`), or undefined. */
  readonly headers: Uint8Array | undefined;
  readonly data: Uint8Array;
}

export type InternalHandler = (msg: InternalMessage, sub: Subscription) => void;

const EMPTY = new Uint8Array(0);

/**
 * An in-process participant (JetStream API, stream capture, system services): it subscribes and publishes
 * through the same router as sockets do, so permissions, queue groups and no-responders apply alike.
 */
export class InternalClient implements SubscriptionOwner {
  readonly echo = true;
  /** Reused for every publish: the router reads it at once, so a delivery may publish again. */
  private readonly msg = new Message();
  private readonly handlers = new Map<Subscription, InternalHandler>();
  private nextSid = 1;
  private closed = false;

  constructor(
    readonly cid: number,
    readonly name: string,
    readonly account: Account,
    private readonly router: Router,
    /** System services by default; JetStream's stream capture and consumers say "jetstream". */
    readonly kind: "system" | "jetstream" = "system",
  ) {}

  subscribe(subject: string, handler: InternalHandler, queue?: string): Subscription {
    const sub = new Subscription(subject, queue, String(this.nextSid++), this);
    this.handlers.set(sub, handler);
    this.account.addSubscription(sub);
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    if (!this.handlers.delete(sub)) return;
    sub.closed = true;
    this.account.removeSubscription(sub);
  }

  /**
   * Publish; `headers` is a complete header block. Returns how many subscriptions received it. With
   * `shown`, receivers see that subject instead of the one routed on (JetStream deliveries carry the
   * stream subject while going to a deliver subject or pull inbox).
   */
  publish(
    subject: string,
    reply: Token | undefined,
    data: Uint8Array,
    headers?: Uint8Array,
    shown?: string,
  ): number {
    if (this.closed) return 0;
    if (headers === undefined || headers.length === 0) {
      return this.route(subject, reply, data, 0, 0, data.length, shown, false);
    }
    if (headers.buffer === data.buffer && headers.byteOffset + headers.length === data.byteOffset) {
      // Header block and payload already side by side (a stored record): route the bytes where they are.
      const whole = new Uint8Array(headers.buffer, headers.byteOffset, headers.length + data.length);
      return this.route(subject, reply, whole, 0, headers.length, whole.length, shown, false);
    }
    const buf = new Uint8Array(headers.length + data.length);
    buf.set(headers, 0);
    buf.set(data, headers.length);
    return this.route(subject, reply, buf, 0, headers.length, buf.length, shown, false);
  }

  /**
   * Publish bytes where they lie: a header block of `hdrLen` bytes (0 for none) then the payload, in
   * buf[start, end). Stored messages are routed this way without a view made per message.
   */
  publishBytes(
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    shown?: string,
  ): number {
    if (this.closed) return 0;
    return this.route(subject, reply, buf, start, hdrLen, end, shown, false);
  }

  /**
   * Answer a request: `reply` is an inbox subject used once, so routing skips the match cache (a cached
   * entry would never be hit and would push a reusable one out). Bytes as in `publishBytes`.
   */
  respondBytes(reply: string, buf: Uint8Array, start: number, hdrLen: number, end: number): number {
    if (this.closed) return 0;
    return this.route(reply, undefined, buf, start, hdrLen, end, undefined, true);
  }

  /** Answer a request with a payload and no headers (see respondBytes). */
  respond(reply: string, data: Uint8Array): number {
    return this.respondBytes(reply, data, 0, 0, data.length);
  }

  private route(
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    shown: string | undefined,
    once: boolean,
  ): number {
    const m = this.msg.set(subject, reply, buf, start, hdrLen, end, this);
    m.shown = shown;
    m.once = once;
    return this.router.publish(this.account, m);
  }

  deliver(
    sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    const handler = this.handlers.get(sub);
    if (handler === undefined) return;
    const headers = hdrLen > 0 ? buf.subarray(start, start + hdrLen) : undefined;
    const data = end > start + hdrLen ? buf.subarray(start + hdrLen, end) : EMPTY;
    handler({ subject, reply: reply === undefined ? undefined : tokenText(reply), headers, data }, sub);
  }

  subscriptionEnded(sub: Subscription): void {
    this.handlers.delete(sub);
  }

  close(): void {
    this.closed = true;
    for (const sub of [...this.handlers.keys()]) this.unsubscribe(sub);
  }
}
