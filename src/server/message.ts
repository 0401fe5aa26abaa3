import type { Token } from "../protocol/encode.js";
import type { SubscriptionOwner } from "./subscription.js";

const EMPTY = new Uint8Array(0);

/**
 * One message being routed: what the router needs to deliver it, as one reusable object instead of a long
 * argument list. The bytes are a view into the publisher's buffer (headers first, then the payload), valid
 * only during the publish. The router reads every field at the start of a publish, so a publisher may
 * refill its object for the next message as soon as publish returns — even from inside a delivery.
 */
export class Message {
  subject = "";
  reply: Token | undefined = undefined;
  buf: Uint8Array = EMPTY;
  /** buf[start, start + hdrLen) is the header block, the payload follows until end. */
  start = 0;
  hdrLen = 0;
  end = 0;
  /** Who published it (undefined: nobody in particular). */
  origin: SubscriptionOwner | undefined = undefined;
  /** Subject shown to receivers when it differs from the one routed on (JetStream deliveries). */
  shown: string | undefined = undefined;
  /** The subject is used once (a reply to a request): its match is not cached. */
  once = false;
  /**
   * Set for messages that arrived over a server-to-server link: the queue groups the sending server chose
   * this server for. Undefined on a route or gateway message means "no queue group here".
   */
  queues: readonly string[] | undefined = undefined;
  /**
   * Arrived over a link with no queue list but on a subject mapped here (a JetStream domain): it crossed for
   * the mapping's interest, which names no queue group, so every group may take it.
   */
  anyQueue = false;
  /**
   * The leaf cluster the message came from, when it entered this cluster over a leaf link (ours, or a
   * peer's: a route's LMSG names it). It never goes back into that cluster over another of its links.
   */
  leafOrigin: string | undefined = undefined;

  /** Fill for a new publish; optional parts are reset. */
  set(
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin: SubscriptionOwner | undefined,
  ): this {
    this.subject = subject;
    this.reply = reply;
    this.buf = buf;
    this.start = start;
    this.hdrLen = hdrLen;
    this.end = end;
    this.origin = origin;
    this.shown = undefined;
    this.once = false;
    this.queues = undefined;
    this.anyQueue = false;
    this.leafOrigin = undefined;
    return this;
  }
}
