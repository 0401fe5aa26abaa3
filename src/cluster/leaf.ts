import type { Token } from "../protocol/encode.js";
import { interestLine, noInterestLine, writeLinkMessage } from "../protocol/link-frames.js";
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
import type { Router } from "../server/router.js";
import { type LinkOwner, Subscription } from "../server/subscription.js";
import type { Transport } from "../server/transport.js";
import type { LeafConnectInfo, LeafInfo } from "./leaf-info.js";

const MAX_QUEUE_WEIGHT = 1024;
/** A spoke waits this long for the hub's second INFO (`info_on_connect`) before giving up on the link. */
const CONNECT_INFO_TIMEOUT_MS = 2000;

/** What a leaf link needs from the leaf-node manager. */
export interface LeafHost extends ConnectionContext {
  readonly router: Router;
  /** Hub side: the INFO sent first (and, with `connect_info`, again once the spoke is bound). */
  hubInfoJson(leaf: LeafConnection, extra?: Record<string, unknown>): string;
  /** Hub side: check the spoke's CONNECT and bind it to an account; a string is the refusal. */
  bind(leaf: LeafConnection, connect: LeafConnectInfo): Promise<Account | string>;
  /** Spoke side: the CONNECT answering the hub's INFO. */
  connectJson(leaf: LeafConnection, info: LeafInfo): string;
  /** The link is bound and may carry interest: register it (false: refused, closed with a reason). */
  leafReady(leaf: LeafConnection): boolean;
  /** Full interest to send over a fresh link. */
  sendAllInterest(leaf: LeafConnection): void;
  /** Whether `subject` is this server's loop-detection subject in `account`. */
  isOwnLoopSubject(account: Account, subject: string): boolean;
}

/**
 * A leaf-node link, bound to one account on each side. The dialling side is the spoke (unless its remote
 * says `hub: true`); the accepting side is the hub. Interest crosses as LS+/LS-, messages as LMSG/HMSG,
 * with no account token. A spoke announces only this server's own interest; a hub announces everything it
 * knows, so the leaf sees the whole system.
 */
export class LeafConnection extends Connection implements LinkOwner, ServerParserHandler {
  readonly kind = "leaf";
  readonly echo = true;
  /** This server is the spoke of this link: what arrives over it stays on this server and its leafs. */
  spoke: boolean;
  /** The peer's INFO (spoke side) or CONNECT (hub side). */
  remoteInfo: LeafInfo | undefined;
  remoteConnect: LeafConnectInfo | undefined;
  /** Bound and carrying interest. */
  registered = false;
  /** What this link was told, keyed `subject` or `subject queue`, with the weight told. */
  readonly sent = new Map<string, number>();
  /** The peer's interest, keyed like `sent`. */
  private readonly remoteSubs = new Map<string, Subscription>();
  private readonly parser: ServerParser;
  private readonly msg = new Message();
  private infoTimer: NodeJS.Timeout | undefined;
  private binding = false;
  /** Set when the peer reported a loop (or we detected one): the dialler waits 30 s before trying again. */
  loopDetected = false;
  /** Hub side: the nonce in our INFO, signed by nkey/JWT spokes. */
  nonce: string | undefined;
  /** The error the peer sent before closing, for the dialler's back-off rules. */
  lastError: string | undefined;

  constructor(
    cid: number,
    transport: Transport,
    private readonly host: LeafHost,
    /** Set on the dialling side: the remote's account and options. */
    readonly remote: { account: Account; hub: boolean; url: string; index: number } | undefined,
    authTimeoutMs: number,
  ) {
    super(cid, transport, host);
    this.spoke = remote !== undefined && !remote.hub;
    if (remote !== undefined) this.account = remote.account;
    this.parser = new ServerParser(this, {
      kind: "leaf",
      maxControlLine: host.options.maxControlLine * 16,
      maxPayload: host.options.maxPayload,
    });
    transport.onData((chunk) => {
      if (this.closed) return;
      this.touch();
      this.parser.parse(chunk);
    });
    if (remote === undefined) {
      this.sendProto(`INFO ${host.hubInfoJson(this)}\r\n`);
      this.infoTimer = setTimeout(() => {
        if (!this.registered && !this.closed)
          this.close(CloseReason.AuthenticationTimeout, "Authentication Timeout");
      }, authTimeoutMs);
      this.infoTimer.unref();
    }
  }

  get solicited(): boolean {
    return this.remote !== undefined;
  }

  /** The server on the other side, by name. */
  get remoteName(): string {
    return this.remoteInfo?.server_name ?? this.remoteConnect?.name ?? this.remoteInfo?.server_id ?? "";
  }

  /** The other side's cluster name (loop checks, monitoring). */
  get remoteCluster(): string | undefined {
    return this.solicited ? this.remoteInfo?.cluster : this.remoteConnect?.cluster;
  }

  protected override pingIntervalMs(): number {
    return Math.min(30_000, this.ctx.options.pingIntervalMs);
  }

  override describe(): string {
    const name = this.remoteName;
    return `${this.transport.remoteAddress}:${this.transport.remotePort} - lid:${this.cid}${name ? ` - "${name}"` : ""}`;
  }

  onInfo(json: string): void {
    let info: LeafInfo;
    try {
      info = JSON.parse(json) as LeafInfo;
    } catch {
      this.close(CloseReason.ProtocolViolation, "Protocol Error");
      return;
    }
    if (!this.solicited) return;
    if (this.remoteInfo === undefined) {
      if (!info.client_id || info.leafnode_urls === undefined || info.leafnode_urls === null) {
        this.ctx.logger.error(
          `${this.describe()} - attempted to connect to wrong port (not a leafnode port)`,
        );
        this.close(CloseReason.WrongPort);
        return;
      }
      this.remoteInfo = info;
      this.sendProto(`CONNECT ${this.host.connectJson(this, info)}\r\n`);
      if (info.info_on_connect) {
        // The hub tells us which account we are bound to first; interest waits for that.
        this.infoTimer = setTimeout(() => {
          if (!this.registered && !this.closed) {
            this.ctx.logger.error(`${this.describe()} - Stale Leaf Node Connection - Closing`);
            this.close(CloseReason.StaleConnection);
          }
        }, CONNECT_INFO_TIMEOUT_MS);
        this.infoTimer.unref();
        return;
      }
      this.ready();
      return;
    }
    if (info.connect_info && !this.registered) {
      if (this.infoTimer !== undefined) clearTimeout(this.infoTimer);
      this.remoteInfo = { ...this.remoteInfo, ...info };
      this.ready();
    }
  }

  onConnect(json: string): void {
    if (this.solicited || this.remoteConnect !== undefined || this.binding) return;
    let c: LeafConnectInfo;
    try {
      c = JSON.parse(json) as LeafConnectInfo;
    } catch {
      this.close(CloseReason.ProtocolViolation, "Protocol Error");
      return;
    }
    if (typeof c.gateway === "string" && c.gateway !== "") {
      this.close(
        CloseReason.WrongGateway,
        `Rejecting connection from gateway "${c.gateway}" on the leafnode port`,
      );
      return;
    }
    this.remoteConnect = c;
    this.spoke = c.is_hub === true;
    this.binding = true;
    // Authentication may be asynchronous: hold later ops (its LS+) until the link is bound.
    this.parser.pause();
    this.host.bind(this, c).then(
      (result) => {
        this.binding = false;
        if (this.closed) return;
        if (typeof result === "string") {
          this.ctx.logger.error(`${this.describe()} - ${result}`);
          this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
          return;
        }
        this.account = result;
        if (this.infoTimer !== undefined) clearTimeout(this.infoTimer);
        if (!this.ready()) return;
        this.parser.resume();
      },
      (err: unknown) => {
        this.binding = false;
        this.ctx.logger.error(`${this.describe()} - leafnode authentication error: ${String(err)}`);
        this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
      },
    );
  }

  /** Bound on both sides: register, then exchange interest. */
  private ready(): boolean {
    if (!this.host.leafReady(this)) return false;
    this.registered = true;
    if (!this.solicited) {
      const account = this.account!;
      this.sendProto(
        `INFO ${this.host.hubInfoJson(this, { connect_info: true, remote_account: account.name })}\r\n`,
      );
    }
    this.host.sendAllInterest(this);
    this.startPings();
    return true;
  }

  onPing(): void {
    this.sendProto("PONG\r\n");
  }

  onPong(): void {
    this.pongReceived();
  }

  onOk(): void {}

  onErr(text: string): void {
    this.lastError = text;
    if (text.startsWith("Loop detected")) this.loopDetected = true;
    this.ctx.logger.error(`${this.describe()} - Leafnode Error '${text}'`);
    this.close(CloseReason.ProtocolViolation);
  }

  onParseError(error: ParseError): void {
    this.ctx.logger.error(`${this.describe()} - Leafnode parse error: ${error.detail}`);
    this.close(CloseReason.ParseError, error.errText);
  }

  onInterest(op: InterestOp, args: string[]): void {
    if (!this.registered) return;
    const account = this.account!;
    if (op === "LS+" || op === "RS+" || op === "SUB") {
      const subject = args[0];
      if (subject === undefined) return;
      if (this.host.isOwnLoopSubject(account, subject)) {
        this.loopDetected = true;
        const text = `Loop detected for leafnode account="${account.name}". Delaying attempt to reconnect for 30s`;
        this.ctx.logger.error(`${this.describe()} - ${text}`);
        this.close(CloseReason.LeafnodeLoopDetected, text);
        return;
      }
      if (crossesNoDomain(subject)) return;
      this.remoteInterest(account, subject, op === "SUB" ? undefined : args[1], args[2]);
    } else if (op === "LS-" || op === "RS-" || op === "UNSUB") {
      const subject = args[0];
      if (subject === undefined) return;
      this.remoteNoInterest(account, subject, args[1]);
    }
  }

  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void {
    if (!this.registered) return;
    const subject = args[0];
    if (subject === undefined || crossesNoDomain(subject)) return;
    const size = end - start;
    this.stats.inMsgs++;
    this.stats.inBytes += size;
    const m = this.msg.set(this.account!.mapSubject(subject), undefined, buf, start, hdrLen, end, this);
    const n = args.length;
    if (n > 1) {
      const a = args[1];
      if (a === "+" && n > 2) {
        m.reply = args[2];
        m.queues = args.slice(3);
      } else if (a === "|") {
        m.queues = args.slice(2);
      } else if (op !== "MSG" || n > 2) {
        m.reply = a;
      }
    }
    this.host.router.publish(this.account!, m);
  }

  forward(
    _account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    queues: readonly string[] | undefined,
  ): void {
    if (this.closed || crossesNoDomain(subject)) return;
    const n = writeLinkMessage(this.out, true, undefined, subject, reply, queues, buf, start, hdrLen, end);
    this.stats.outMsgs++;
    this.stats.outBytes += n;
    this.afterAppend();
  }

  deliver(): void {
    // Leaf subscriptions are reached through forward().
  }

  subscriptionEnded(): void {}

  /** Bring what the peer was told for one subject (and queue) to `weight` (0 = no interest). */
  tell(subject: string, queue: string | undefined, weight: number): void {
    if (!this.registered || this.closed || crossesNoDomain(subject)) return;
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const told = this.sent.get(key) ?? 0;
    if (weight > 0) {
      if (told === weight || (queue === undefined && told > 0)) return;
      this.sent.set(key, weight);
      this.sendProto(interestLine("LS+", undefined, subject, queue, weight));
    } else if (told > 0) {
      this.sent.delete(key);
      this.sendProto(noInterestLine("LS-", undefined, subject, queue));
    }
  }

  /** The weight of the peer's own interest in a key (subtracted from what the hub tells it). */
  ownWeight(subject: string, queue: string | undefined): number {
    const sub = this.remoteSubs.get(queue === undefined ? subject : `${subject} ${queue}`);
    return sub === undefined ? 0 : queue === undefined ? 1 : sub.weight;
  }

  private remoteInterest(
    account: Account,
    subject: string,
    queue: string | undefined,
    weightText: string | undefined,
  ): void {
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const existing = this.remoteSubs.get(key);
    const w =
      queue === undefined
        ? 1
        : Math.min(MAX_QUEUE_WEIGHT, Math.max(1, Number.parseInt(weightText ?? "1", 10) || 1));
    if (existing !== undefined) {
      if (queue === undefined || existing.weight === w) return;
      // No longer ours before the index hears of it (as below): what this link is told is right meanwhile.
      this.remoteSubs.delete(key);
      existing.closed = true;
      account.removeSubscription(existing);
    }
    const sub = new Subscription(subject, queue, key, this);
    sub.weight = w;
    // Known as ours before the index hears of it: what this link is told leaves out its own interest.
    this.remoteSubs.set(key, sub);
    try {
      account.addSubscription(sub);
    } catch {
      this.remoteSubs.delete(key);
      this.ctx.logger.debug(`${this.describe()} - ignoring interest in invalid subject "${subject}"`);
    }
  }

  private remoteNoInterest(account: Account, subject: string, queue: string | undefined): void {
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const sub = this.remoteSubs.get(key);
    if (sub === undefined) return;
    // Forgotten as ours before the index hears of it: otherwise the refresh this removal triggers still
    // subtracts the peer's share and retracts, over this link, interest that other subscribers hold.
    this.remoteSubs.delete(key);
    sub.closed = true;
    account.removeSubscription(sub);
  }

  get subCount(): number {
    return this.remoteSubs.size;
  }

  /** The peer's subscriptions (for /leafz?subs=1). */
  remoteSubjects(): string[] {
    return [...this.remoteSubs.values()].map((s) =>
      s.queue === undefined ? s.subject : `${s.subject} ${s.queue}`,
    );
  }

  override close(reason: CloseReason, errText?: string, flushFirst = true): void {
    if (this.closed) return;
    if (this.infoTimer !== undefined) clearTimeout(this.infoTimer);
    this.parser.close();
    const account = this.account;
    for (const sub of this.remoteSubs.values()) {
      sub.closed = true;
      account?.removeSubscription(sub);
    }
    this.remoteSubs.clear();
    this.sent.clear();
    super.close(reason, errText, flushFirst);
  }
}

/**
 * JetStream stays inside its domain: the API and the KV/object-store subjects never cross a leaf link in a
 * user account (`$JS.<domain>.API.>` is how another domain is reached).
 */
export function crossesNoDomain(subject: string): boolean {
  if (subject.charCodeAt(0) !== 0x24) return false;
  return subject.startsWith("$JS.API.") || subject.startsWith("$KV.") || subject.startsWith("$OBJ.");
}
