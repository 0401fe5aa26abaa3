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
import type { InterestEntry } from "./local-interest.js";
import type { RouteConnectInfo, RouteInfo } from "./route-info.js";

/** Routes PING at most this often, whatever the client ping interval (as nats-server). */
const ROUTE_PING_MS = 30_000;
/** A peer's queue weight is capped: it becomes that many entries in a match result. */
const MAX_QUEUE_WEIGHT = 1024;

/** What a route needs from the cluster it belongs to. */
export interface RouteHost extends ConnectionContext {
  readonly router: Router;
  /** This server's identity and the INFO it sends on routes. */
  routeInfoJson(): string;
  connectJson(route: RouteConnection): string;
  /** Check credentials in a peer's CONNECT (accepting side); undefined when they are fine. */
  checkConnect(connect: RouteConnectInfo): string | undefined;
  /** The peer's first INFO: register it (false closes this connection, the host having said why). */
  routeReady(route: RouteConnection, info: RouteInfo): boolean;
  /** A later INFO from the same peer (connect URLs, lame duck). */
  routeUpdated(route: RouteConnection, info: RouteInfo): void;
  /** An INFO about another server, forwarded by this peer: dial it if we do not know it. */
  gossip(info: RouteInfo): void;
  /** Every account with local interest and what it is (sent in full once a route is up). */
  localInterest(): Iterable<[Account, Iterable<InterestEntry>]>;
  /** Route permissions: which of our interest we announce, which of the peer's we accept. */
  mayImport(subject: string, queue: string | undefined): boolean;
  mayExport(subject: string, queue: string | undefined): boolean;
  /** An account named by a peer; undefined when this server does not have it. */
  accountNamed(name: string): Account | undefined;
  /** The `cluster { }` block: its `ping_interval`, when set, paces route PINGs. */
  readonly config?: { readonly pingIntervalMs?: number };
}

/**
 * A route: one server of this cluster, reached over TCP. It carries every account (names on each proto),
 * tells the peer this server's interest (RS+/RS-), keeps the peer's interest as subscriptions in the
 * accounts' subject indexes, and forwards messages once per publish with the queue groups chosen for it.
 */
export class RouteConnection extends Connection implements LinkOwner, ServerParserHandler {
  readonly kind = "route";
  readonly spoke = false;
  readonly echo = true;
  /** The peer's INFO once it arrived. */
  remote: RouteInfo | undefined;
  /** Registered with the cluster (the peer is known and this is its route). */
  registered = false;
  /** The peer's interest, per account, keyed by `subject` or `subject queue`. */
  private readonly remoteSubs = new Map<Account, Map<string, Subscription>>();
  private readonly parser: ServerParser;
  private readonly msg = new Message();
  private connectSeen = false;
  private authTimer: NodeJS.Timeout | undefined;
  /** Subscriptions the peer holds, for /routez. */
  subCount = 0;
  /** Credentials from the route URL we dialled (nats-route://user:pass@host:port). */
  credentials: { user?: string; pass?: string } | undefined;
  /** The peer turned out to be this server (a configured route to itself). */
  selfRoute = false;

  constructor(
    cid: number,
    transport: Transport,
    private readonly host: RouteHost,
    /** We dialled this route (to this URL). */
    readonly solicitedUrl: string | undefined,
    authTimeoutMs: number,
  ) {
    super(cid, transport, host);
    this.parser = new ServerParser(this, {
      kind: "route",
      maxControlLine: host.options.maxControlLine * 16,
      maxPayload: -1,
    });
    transport.onData((chunk) => {
      if (this.closed) return;
      this.touch();
      this.parser.parse(chunk);
    });
    if (solicitedUrl === undefined) {
      // Accepting side: INFO first, then the peer must CONNECT in time.
      this.sendProto(`INFO ${host.routeInfoJson()}\r\n`);
      this.authTimer = setTimeout(() => {
        if (!this.connectSeen && !this.closed)
          this.close(CloseReason.AuthenticationTimeout, "Authentication Timeout");
      }, authTimeoutMs);
      this.authTimer.unref();
    }
  }

  get solicited(): boolean {
    return this.solicitedUrl !== undefined;
  }

  protected override pingIntervalMs(): number {
    return Math.min(ROUTE_PING_MS, this.host.config?.pingIntervalMs ?? this.ctx.options.pingIntervalMs);
  }

  override describe(): string {
    const name = this.remote?.server_name ?? this.remote?.server_id;
    return `${this.transport.remoteAddress}:${this.transport.remotePort} - rid:${this.cid}${name ? ` - "${name}"` : ""}`;
  }

  onConnect(json: string): void {
    if (this.solicited) return;
    let c: RouteConnectInfo;
    try {
      c = JSON.parse(json) as RouteConnectInfo;
    } catch {
      this.close(CloseReason.ProtocolViolation, "Protocol Error");
      return;
    }
    if (typeof c.gateway === "string" && c.gateway !== "") {
      this.close(
        CloseReason.WrongGateway,
        `Rejecting connection from gateway "${c.gateway}" on the Route port`,
      );
      return;
    }
    const refusal = this.host.checkConnect(c);
    if (refusal !== undefined) {
      this.ctx.logger.error(`${this.describe()} - ${refusal}`);
      this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
      return;
    }
    this.connectSeen = true;
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
  }

  onInfo(json: string): void {
    let info: RouteInfo;
    try {
      info = JSON.parse(json) as RouteInfo;
    } catch {
      this.close(CloseReason.ProtocolViolation, "Protocol Error");
      return;
    }
    if (!this.registered) {
      if (this.remote !== undefined) return;
      if (!this.solicited && !this.connectSeen) {
        // An INFO before CONNECT: nats-server's soliciting side sends both at once; order them.
        this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
        return;
      }
      this.remote = info;
      if (this.solicited) {
        this.sendProto(`CONNECT ${this.host.connectJson(this)}\r\nINFO ${this.host.routeInfoJson()}\r\n`);
      }
      if (!this.host.routeReady(this, info)) return;
      this.registered = true;
      this.sendAllInterest();
      this.startPings();
      return;
    }
    if (info.server_id !== undefined && info.server_id !== this.remote?.server_id) {
      this.host.gossip(info);
      return;
    }
    this.host.routeUpdated(this, info);
  }

  onPing(): void {
    this.sendProto("PONG\r\n");
  }

  onPong(): void {
    this.pongReceived();
  }

  onOk(): void {}

  onErr(text: string): void {
    this.ctx.logger.error(`${this.describe()} - Route Error '${text}'`);
    this.close(CloseReason.ProtocolViolation);
  }

  onParseError(error: ParseError): void {
    this.ctx.logger.error(`${this.describe()} - Route parse error: ${error.detail}`);
    this.close(CloseReason.ParseError, error.errText);
  }

  onInterest(op: InterestOp, args: string[]): void {
    if (!this.registered) return;
    switch (op) {
      case "RS+":
        this.remoteInterest(args[0], args[1], args[2], args[3]);
        return;
      case "RS-":
        this.remoteNoInterest(args[0], args[1], args[2]);
        return;
      case "LS+":
        // Interest of a leaf node behind the peer: the first argument is the leaf's origin cluster.
        this.remoteInterest(args[1], args[2], args[3], args[4]);
        return;
      case "LS-":
        // Peers that did not advertise `lnocu` omit the origin.
        if (args.length >= 3 && this.accountOf(args[1]) !== undefined)
          this.remoteNoInterest(args[1], args[2], args[3]);
        else this.remoteNoInterest(args[0], args[1], args[2]);
        return;
      default:
        // A+/A- are gateway protos; SUB/UNSUB are not spoken on routes.
        return;
    }
  }

  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void {
    if (!this.registered) return;
    // LMSG carries the origin cluster of a leaf-originated message first.
    const base = op === "LMSG" ? 1 : 0;
    const account = this.accountOf(args[base]);
    const subject = args[base + 1];
    if (account === undefined || subject === undefined) return;
    const size = end - start;
    this.stats.inMsgs++;
    this.stats.inBytes += size;
    const m = this.msg.set(subject, undefined, buf, start, hdrLen, end, this);
    const n = args.length;
    const i = base + 2;
    if (i < n) {
      const a = args[i];
      if (a === "+" && i + 1 < n) {
        m.reply = args[i + 1];
        m.queues = args.slice(i + 2);
      } else if (a === "|") {
        m.queues = args.slice(i + 1);
      } else {
        m.reply = a;
      }
    }
    this.host.router.publish(account, m);
  }

  /** The router chose this route for a message: send it once, with the queue groups chosen here. */
  forward(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    queues: readonly string[] | undefined,
  ): void {
    if (this.closed) return;
    const n = writeLinkMessage(
      this.out,
      false,
      account.name,
      subject,
      reply,
      queues,
      buf,
      start,
      hdrLen,
      end,
    );
    this.stats.outMsgs++;
    this.stats.outBytes += n;
    this.afterAppend();
  }

  deliver(): void {
    // Route subscriptions are reached through forward(), never as local receivers.
  }

  subscriptionEnded(): void {}

  /** Tell the peer about a change in this server's interest. */
  sendInterest(account: Account, entry: InterestEntry, add: boolean): void {
    if (!this.registered || this.closed || !this.host.mayImport(entry.subject, entry.queue)) return;
    if (add) this.sendProto(interestLine("RS+", account.name, entry.subject, entry.queue, entry.count));
    else this.sendProto(noInterestLine("RS-", account.name, entry.subject, entry.queue));
  }

  private sendAllInterest(): void {
    let text = "";
    for (const [account, entries] of this.host.localInterest()) {
      for (const e of entries) {
        if (!this.host.mayImport(e.subject, e.queue)) continue;
        text += interestLine("RS+", account.name, e.subject, e.queue, e.count);
        if (text.length > 60_000) {
          this.sendProto(text);
          text = "";
        }
      }
    }
    if (text !== "") this.sendProto(text);
  }

  private accountOf(name: string | undefined): Account | undefined {
    return name === undefined ? undefined : this.host.accountNamed(name);
  }

  private remoteInterest(
    accName: string | undefined,
    subject: string | undefined,
    queue: string | undefined,
    weightText: string | undefined,
  ): void {
    const account = this.accountOf(accName);
    if (account === undefined || subject === undefined || !this.host.mayExport(subject, queue)) return;
    let table = this.remoteSubs.get(account);
    if (table === undefined) {
      table = new Map();
      this.remoteSubs.set(account, table);
    }
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const existing = table.get(key);
    if (queue === undefined) {
      if (existing !== undefined) return;
    } else {
      const w = Math.min(MAX_QUEUE_WEIGHT, Math.max(1, Number.parseInt(weightText ?? "1", 10) || 1));
      if (existing !== undefined) {
        if (existing.weight === w) return;
        // A new weight replaces the subscription, so cached match results see it.
        existing.closed = true;
        account.removeSubscription(existing);
        table.delete(key);
        this.subCount--;
      }
      const sub = new Subscription(subject, queue, key, this);
      sub.weight = w;
      if (!this.insert(account, sub)) return;
      table.set(key, sub);
      this.subCount++;
      return;
    }
    const sub = new Subscription(subject, undefined, key, this);
    if (!this.insert(account, sub)) return;
    table.set(key, sub);
    this.subCount++;
  }

  private insert(account: Account, sub: Subscription): boolean {
    try {
      account.addSubscription(sub);
      return true;
    } catch {
      // An invalid subject from the peer is ignored rather than trusted.
      this.ctx.logger.debug(`${this.describe()} - ignoring interest in invalid subject "${sub.subject}"`);
      return false;
    }
  }

  private remoteNoInterest(
    accName: string | undefined,
    subject: string | undefined,
    queue: string | undefined,
  ): void {
    const account = this.accountOf(accName);
    if (account === undefined || subject === undefined) return;
    const table = this.remoteSubs.get(account);
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const sub = table?.get(key);
    if (sub === undefined) return;
    table!.delete(key);
    sub.closed = true;
    account.removeSubscription(sub);
    this.subCount--;
  }

  /** The peer's subscriptions (for /routez?subs=1). */
  *remoteSubscriptions(): IterableIterator<{ account: string; sub: Subscription }> {
    for (const [account, table] of this.remoteSubs)
      for (const sub of table.values()) yield { account: account.name, sub };
  }

  override close(reason: CloseReason, errText?: string, flushFirst = true): void {
    if (this.closed) return;
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.parser.close();
    // Nothing stale stays behind: the peer's interest leaves with its route.
    for (const [account, table] of this.remoteSubs) {
      for (const sub of table.values()) {
        sub.closed = true;
        account.removeSubscription(sub);
      }
    }
    this.remoteSubs.clear();
    this.subCount = 0;
    super.close(reason, errText, flushFirst);
  }
}
