import type { Token } from "../protocol/encode.js";
import { pickQueueMember } from "../subjects/subject-index.js";
import type { Account } from "./account.js";
import type { Subscription, SubscriptionOwner } from "./subscription.js";

/** Message tracing (msg-trace.ts): who a traced message reaches, and whether it is delivered at all. */
export interface TraceSink {
  /** false for `Nats-Trace-Only`: receivers are reported, nothing is delivered. */
  readonly deliver: boolean;
  reached(sub: Subscription): void;
}

/**
 * Routes one published message to every interested subscription of an account: each plain subscription
 * gets a copy, each queue group one member chosen uniformly at random. Knows nothing of sockets; remote
 * interest (routes, gateways, leaf nodes) plugs in here later.
 */
export class Router {
  /** Messages routed, and deliveries made, for monitoring. */
  routed = 0;
  deliveries = 0;

  /**
   * Like publish, reporting each receiver to `trace` (and delivering only when it says so). Traced
   * messages are rare, so this is a loop of its own rather than a branch in publish's.
   */
  publishTraced(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin: SubscriptionOwner,
    trace: TraceSink,
  ): number {
    this.routed++;
    const result = account.sublist.match(subject);
    const skipOwn = !origin.echo ? origin : undefined;
    const reach = (sub: Subscription): boolean => {
      if (sub.closed || sub.owner === skipOwn) return false;
      if (trace.deliver) {
        if (!deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, undefined, origin))
          return false;
      } else if (sub.deliveryFiltered && sub.owner.deniesDelivery?.(subject, sub.queue)) {
        return false;
      }
      trace.reached(sub);
      return true;
    };
    let delivered = 0;
    for (const sub of result.plain) if (reach(sub)) delivered++;
    // One member per queue group: the first, from a random start, that takes it.
    for (const members of result.queues) if (pickQueueMember(members, reach) !== undefined) delivered++;
    if (trace.deliver) this.deliveries += delivered;
    return delivered;
  }

  /** Returns how many subscriptions received the message (0 means nobody was listening). */
  publish(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin: SubscriptionOwner | undefined,
    /** Subject shown to receivers when it differs from the one routed on (JetStream deliveries). */
    shown?: string,
    /** A reply to a request: this subject is used once, so its match is not cached. */
    once = false,
  ): number {
    this.routed++;
    const result = account.sublist.match(subject, once || isAckSubject(subject));
    const skipOwn = origin !== undefined && !origin.echo ? origin : undefined;
    let delivered = 0;

    const plain = result.plain;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i];
      if (sub.closed || sub.owner === skipOwn) continue;
      if (deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) delivered++;
    }

    const queues = result.queues;
    for (let g = 0; g < queues.length; g++) {
      const members = queues[g];
      const n = members.length;
      // Uniform random start, then the first member that can take it: every member equally likely.
      const first = n === 1 ? 0 : Math.floor(Math.random() * n);
      for (let k = 0; k < n; k++) {
        const sub = members[(first + k) % n];
        if (sub.closed || sub.owner === skipOwn) continue;
        if (deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) {
          delivered++;
          break;
        }
      }
    }
    this.deliveries += delivered;
    return delivered;
  }
}

function deliverTo(
  account: Account,
  sub: Subscription,
  subject: string,
  reply: Token | undefined,
  buf: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
  shown: string | undefined,
  origin: SubscriptionOwner | undefined,
): boolean {
  const owner = sub.owner;
  if (sub.deliveryFiltered && owner.deniesDelivery?.(subject, sub.queue)) return false;
  sub.delivered++;
  if (sub.max > 0 && sub.delivered >= sub.max) {
    sub.closed = true;
    account.removeSubscription(sub);
    owner.subscriptionEnded(sub);
  }
  const routed = shown === undefined ? undefined : subject;
  owner.deliver(sub, shown ?? subject, reply, buf, start, hdrLen, end, origin, routed);
  return true;
}

/**
 * JetStream ack subjects carry the delivery's sequence numbers, so each is published once (by the client
 * acknowledging): caching its match would only cost an insert and push a reusable entry out.
 */
function isAckSubject(subject: string): boolean {
  return subject.charCodeAt(0) === 0x24 && subject.startsWith("$JS.ACK.");
}
