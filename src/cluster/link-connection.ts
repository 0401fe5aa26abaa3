import { type Token, tokenText } from "../protocol/encode.js";
import { writeLinkMessage } from "../protocol/link-frames.js";
import {
  type InterestOp,
  type MessageOp,
  type ParseError,
  ServerParser,
  type ServerParserHandler,
} from "../protocol/server-parser.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import { Connection, type ConnectionContext } from "../server/connection.js";
import { Message } from "../server/message.js";
import type { LinkOwner, Subscription } from "../server/subscription.js";
import type { Transport } from "../server/transport.js";
import { RemoteInterest } from "./remote-interest.js";

type LinkKind = LinkOwner["kind"];

/** How each kind names itself in logs (as nats-server): the word before "Error", the id prefix. */
const NAMES: Record<LinkKind, { readonly label: string; readonly id: string }> = {
  route: { label: "Route", id: "rid" },
  gateway: { label: "Gateway", id: "gid" },
  leaf: { label: "Leafnode", id: "lid" },
};

/**
 * What routes, gateways and leaf-node links do alike on top of Connection: a link parser fed by the
 * transport, PING/PONG, -ERR and parse errors, a deadline on the handshake, message counts, and the peer's
 * interest as subscriptions. Handshakes, interest protos and message forms differ per kind and stay there.
 */
export abstract class LinkConnection extends Connection implements LinkOwner, ServerParserHandler {
  abstract override readonly kind: LinkKind;
  abstract readonly spoke: boolean;
  readonly echo = true;
  /** Registered with its manager: the handshake is over and the link carries interest. */
  registered = false;
  protected readonly parser: ServerParser;
  /** One message object for every inbound message (the router reads it only during the publish). */
  protected readonly msg = new Message();
  /** The peer's interest. */
  protected readonly interest: RemoteInterest;
  private readonly names: { readonly label: string; readonly id: string };
  private readonly leaf: boolean;
  private deadline: NodeJS.Timeout | undefined;

  constructor(cid: number, transport: Transport, ctx: ConnectionContext, kind: LinkKind, maxPayload: number) {
    super(cid, transport, ctx);
    this.names = NAMES[kind];
    this.leaf = kind === "leaf";
    this.interest = new RemoteInterest(this, ctx.logger);
    this.parser = new ServerParser(this, {
      kind,
      maxControlLine: ctx.options.maxControlLine * 16,
      maxPayload,
    });
    transport.onData((chunk) => {
      if (this.closed) return;
      this.noteInput();
      this.parser.parse(chunk);
    });
  }

  /** Subscriptions standing for the peer's interest (monitoring). */
  get subCount(): number {
    return this.interest.count;
  }

  /** The peer's name for log lines, when known. */
  protected abstract peerName(): string | undefined;

  override describe(): string {
    const name = this.peerName();
    const { remoteAddress, remotePort } = this.transport;
    return `${remoteAddress}:${remotePort} - ${this.names.id}:${this.cid}${name ? ` - "${name}"` : ""}`;
  }

  /** Input arrived: by default it counts as proof of life, so a scheduled PING can be skipped. */
  protected noteInput(): void {
    this.touch();
  }

  /** A handshake step the peer must take in time: `expired` runs after `ms` unless closed or cleared first. */
  protected setDeadline(ms: number, expired: () => void): void {
    this.clearDeadline();
    this.deadline = setTimeout(() => {
      if (!this.closed) expired();
    }, ms);
    this.deadline.unref();
  }

  protected clearDeadline(): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /** A gateway dialled the route or leafnode port (its CONNECT names one): refuse it, as nats-server does. */
  protected refusesGateway(connect: { readonly gateway?: unknown }, port: string): boolean {
    if (typeof connect.gateway !== "string" || connect.gateway === "") return false;
    this.close(
      CloseReason.WrongGateway,
      `Rejecting connection from gateway "${connect.gateway}" on the ${port}`,
    );
    return true;
  }

  /** The JSON of an INFO or CONNECT; a peer that sends anything else is closed (undefined). */
  protected parseJson<T>(json: string): T | undefined {
    try {
      return JSON.parse(json) as T;
    } catch {
      this.close(CloseReason.ProtocolViolation, "Protocol Error");
      return undefined;
    }
  }

  abstract onInfo(json: string): void;
  abstract onConnect(json: string): void;
  abstract onInterest(op: InterestOp, args: string[]): void;
  abstract onMessage(
    op: MessageOp,
    args: string[],
    buf: Buffer,
    start: number,
    hdrLen: number,
    end: number,
  ): void;

  onPing(): void {
    this.sendProto("PONG\r\n");
  }

  onPong(): void {
    this.pongReceived();
  }

  onOk(): void {}

  onErr(text: string): void {
    this.ctx.logger.error(`${this.describe()} - ${this.names.label} Error '${text}'`);
    this.close(CloseReason.ProtocolViolation);
  }

  onParseError(error: ParseError): void {
    this.ctx.logger.error(`${this.describe()} - ${this.names.label} parse error: ${error.detail}`);
    this.close(CloseReason.ParseError, error.errText);
  }

  /** Count a message that arrived (buf[start, end)). */
  protected countIn(start: number, end: number): void {
    this.stats.inMsgs++;
    this.stats.inBytes += end - start;
  }

  /** The router chose this link for a message: send it once, with the queue groups chosen for it. */
  forward(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    queues: readonly string[] | undefined,
    shown?: string,
    leafOrigin?: string,
  ): void {
    if (this.closed || !this.carries(subject)) return;
    if (shown !== undefined && reply !== undefined)
      [subject, reply] = jsDeliveryOnWire(subject, reply, shown);
    this.writeMessage(account, subject, reply, queues, buf, start, hdrLen, end, leafOrigin);
  }

  /** Whether messages on `subject` may cross this link at all. */
  protected carries(_subject: string): boolean {
    return true;
  }

  /** Send a message in this link's form (LMSG without the account on leafs, RMSG with it elsewhere). */
  protected writeMessage(
    account: Account,
    subject: string,
    reply: Token | undefined,
    queues: readonly string[] | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    leafOrigin?: string,
  ): void {
    const acc = this.leaf ? undefined : account.name;
    const origin = this.originOnWire(leafOrigin);
    const n = writeLinkMessage(
      this.out,
      this.leaf,
      acc,
      subject,
      reply,
      queues,
      buf,
      start,
      hdrLen,
      end,
      origin,
    );
    this.stats.outMsgs++;
    this.stats.outBytes += n;
    this.afterAppend();
  }

  /** The leaf cluster to name on the wire for a message that came from one (routes only). */
  protected originOnWire(_leafOrigin: string | undefined): string | undefined {
    return undefined;
  }

  /** Link subscriptions are reached through forward(), never as local receivers. */
  deliver(): void {}

  subscriptionEnded(): void {}

  /** Send many protocol lines as a few large writes (a full interest table can be long). */
  sendLines(lines: Iterable<string>): void {
    let text = "";
    for (const line of lines) {
      text += line;
      if (text.length > 60_000) {
        this.sendProto(text);
        text = "";
      }
    }
    if (text !== "") this.sendProto(text);
  }

  /** The peer's subscriptions with their account (/routez?subs=1, tests). */
  *remoteSubscriptions(): IterableIterator<{ account: string; sub: Subscription }> {
    for (const { account, sub } of this.interest.entries()) yield { account: account.name, sub };
  }

  /** The peer's interest leaves with its link (kinds with more state to drop extend this). */
  protected dropInterest(): void {
    this.interest.clear();
  }

  override close(reason: CloseReason, errText?: string, flushFirst = true): void {
    if (this.closed) return;
    this.clearDeadline();
    this.parser.close();
    this.dropInterest();
    super.close(reason, errText, flushFirst);
  }
}

/**
 * The reply and queue groups of a link message, from `args[i]` on: `reply`, `+ reply q1 q2…` or
 * `| q1 q2…` (the groups the sending server chose this one for). `loneReply` false leaves a lone token
 * unread: on a leaf's plain MSG (old peers) it is not a reply.
 */
export function readReplyAndQueues(m: Message, args: readonly string[], i: number, loneReply = true): void {
  const n = args.length;
  if (i >= n) return;
  const a = args[i];
  if (a === "+" && i + 1 < n) {
    m.reply = args[i + 1];
    m.queues = args.slice(i + 2);
  } else if (a === "|") {
    m.queues = args.slice(i + 1);
  } else if (loneReply) {
    m.reply = a;
  }
  const r = m.reply;
  if (typeof r === "string" && r.startsWith("$JS.ACK.")) {
    // A JetStream delivery: routed on the subject after `@`, shown with the one on the wire.
    const at = r.lastIndexOf("@");
    if (at > 0 && at < r.length - 1) {
      m.shown = m.subject;
      m.subject = r.slice(at + 1);
      m.reply = r.slice(0, at);
    }
  }
}

/**
 * A JetStream delivery crosses a link as nats-server sends it: the stream subject on the wire and the
 * deliver subject appended to the ack reply (`$JS.ACK.…@<deliver subject>`), so the last server delivers it
 * on the deliver subject and shows the stream subject.
 */
export function jsDeliveryOnWire(subject: string, reply: Token, shown: string): [string, Token] {
  const text = tokenText(reply);
  if (!text.startsWith("$JS.ACK.")) return [subject, reply];
  return [shown, `${text}@${subject}`];
}
