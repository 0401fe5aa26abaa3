import type { IndexedSubscription } from "../subjects/subject-index.js";

/**
 * Whoever receives a subscription's messages: a client connection, or an in-process handler
 * (JetStream API, stream capture, monitoring over NATS). The router treats them alike.
 */
export interface SubscriptionOwner {
  readonly cid: number;
  /** false: messages this owner publishes are not delivered back to its own subscriptions. */
  readonly echo: boolean;
  /**
   * Deliver one message. Bytes are views into the publisher's buffer: copy to keep them.
   * headers are buf[start, start + hdrLen), the payload follows until end.
   */
  deliver(
    sub: Subscription,
    subject: string,
    reply: string | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void;
  /** Called when the router removed the subscription (auto-unsubscribe limit reached). */
  subscriptionEnded(sub: Subscription): void;
  /** Subscribe-permission checks that apply at delivery time (a wildcard SUB overlapping a deny rule). */
  deniesDelivery?(subject: string, queue: string | undefined): boolean;
}

export class Subscription implements IndexedSubscription {
  /** Messages delivered so far. */
  delivered = 0;
  /** Auto-unsubscribe after this many deliveries; 0 = no limit. */
  max = 0;
  closed = false;
  /** Set when the owner's permissions may deny some subjects this subscription matches. */
  deliveryFiltered = false;

  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
    readonly owner: SubscriptionOwner,
  ) {}
}
