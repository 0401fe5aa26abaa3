import type { Token } from "../protocol/encode.js";
import type { IndexedSubscription } from "../subjects/subject-index.js";
import type { Account } from "./account.js";
import type { ReceiverKind } from "./receiver.js";

/**
 * Whoever receives a subscription's messages: a client connection, or an in-process handler
 * (JetStream API, stream capture, monitoring over NATS). The router treats them alike.
 */
export interface SubscriptionOwner {
  readonly kind: ReceiverKind;
  readonly cid: number;
  /** false: messages this owner publishes are not delivered back to its own subscriptions. */
  readonly echo: boolean;
  /**
   * Deliver one message. Bytes are views into the publisher's buffer: copy to keep them.
   * headers are buf[start, start + hdrLen), the payload follows until end. `origin` is the publisher when
   * known (cross-account imports report who asked). A reply given as bytes is only valid during the call
   * (JetStream builds ack subjects in a reused buffer): `tokenText` it to keep it.
   */
  deliver(
    sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin?: SubscriptionOwner,
    /** The subject routed on, when receivers are shown another one (JetStream deliveries). */
    routed?: string,
  ): void;
  /** Called when the router removed the subscription (auto-unsubscribe limit reached). */
  subscriptionEnded(sub: Subscription): void;
  /**
   * For owners that pass messages on into another account (stream imports): where a message on `subject`
   * would go, so interest checks (JetStream push consumers) can look there.
   */
  forwardsTo?(subject: string): { account: Account; subject: string } | undefined;
  /**
   * A service import: every server of a cluster installs its own, so its interest is not announced over
   * routes (a peer's import would take the request a second time).
   */
  readonly serviceImport?: boolean;
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
  /**
   * Queue weight: how many members this subscription stands for (a route's queue interest counts every
   * member behind it). Match results list a subscription that many times, so a uniform pick respects it.
   */
  weight = 1;
  /** A JetStream stream capturing its subjects through this subscription (shown as such in message traces). */
  stream: string | undefined;

  /** The owner stands for another server (route, gateway, leaf link): read on the hot path without the owner. */
  readonly remote: boolean;

  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
    readonly owner: SubscriptionOwner,
  ) {
    const k = owner.kind;
    this.remote = k === "route" || k === "gateway" || k === "leaf";
  }
}

/**
 * A server-to-server link (route, gateway, leaf node): its subscriptions stand for interest on the other
 * side, and a message routed to it is forwarded once per publish, with the queue groups chosen for it.
 */
export interface LinkOwner extends SubscriptionOwner {
  readonly kind: "route" | "gateway" | "leaf";
  /** A leaf link this server dialled as the spoke: what arrives over it is not passed on to routes. */
  readonly spoke: boolean;
  /**
   * A leaf link this server is the hub of: the cluster of the servers behind it. What comes from that
   * cluster never goes back to it over another of its links.
   */
  readonly leafCluster?: string;
  /** Round-trip time of the link's last PING, in ms (gateways: the nearest cluster serves a queue group). */
  readonly rttMs: number;
  forward(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    queues: readonly string[] | undefined,
    /** Subject receivers are shown when it differs from `subject` (JetStream deliveries). */
    shown?: string,
    /** The leaf cluster the message entered by (routes pass it on, as LMSG). */
    leafOrigin?: string,
  ): void;
}
