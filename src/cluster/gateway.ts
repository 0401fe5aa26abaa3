import type { Token } from "../protocol/encode.js";
import type { InterestOp, MessageOp } from "../protocol/server-parser.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import type { ConnectionContext } from "../server/connection.js";
import type { Message } from "../server/message.js";
import type { Router } from "../server/router.js";
import { Subscription } from "../server/subscription.js";
import type { Transport } from "../server/transport.js";
import { isSubsetMatch } from "../subjects/pattern.js";
import { decodeCmdPayload, GatewayCmd, type GatewayConnectInfo, type GatewayInfo } from "./gateway-info.js";
import { jsDeliveryOnWire, LinkConnection, readReplyAndQueues } from "./link-connection.js";

/** Gateways PING at least this often, whatever the traffic (as nats-server: the RTT orders the clusters). */
const GATEWAY_PING_MS = 15_000;

/** What a gateway connection needs from the gateway manager. */
export interface GatewayHost extends ConnectionContext {
  readonly router: Router;
  /** This server's gateway (cluster) name. */
  readonly gatewayName: string;
  /** This server's gateway INFO. */
  infoJson(): string;
  connectJson(gw: GatewayConnection): string;
  /** The accepting side's checks of a CONNECT; on refusal the host has closed the connection. */
  acceptConnect(gw: GatewayConnection, connect: GatewayConnectInfo): boolean;
  /** The first INFO of an outbound connection, name checked and CONNECT sent: register it (false: closed). */
  outboundReady(gw: GatewayConnection, info: GatewayInfo): boolean;
  /** The first INFO of an inbound connection (after its CONNECT): register it (false: closed). */
  inboundReady(gw: GatewayConnection, info: GatewayInfo): boolean;
  /** A later INFO on an outbound connection: gossip about another cluster, or new URLs of this one. */
  outboundInfo(gw: GatewayConnection, info: GatewayInfo): void;
  /** An account named by the peer; undefined when this server does not have it. */
  accountNamed(name: string): Account | undefined;
  /** The reply to send a request's answer to: `_GR_.`-prefixed when a recent subscription may be waiting. */
  mapReply(account: Account, reply: Token): Token;
  /** A message from the other cluster: publish it here (handles `_GR_.` replies). */
  inboundMessage(gw: GatewayConnection, account: Account, m: Message): void;
}

/** Per account interest mode of an outbound connection to a peer that did not promise interest-only. */
type InterestMode = "optimistic" | "transitioning" | "interest-only";

/** What the peer told an outbound connection about one account, besides its interest (RS+, in `interest`). */
interface RemoteAccount {
  mode: InterestMode;
  /** Optimistic mode: the `>` subscription that makes the router send everything, unless... */
  catchAll: Subscription | undefined;
  /** ...the peer said it has no interest in the subject (RS-) ... */
  noInterest: Set<string> | undefined;
  /** ...or in the whole account (A-). */
  accountNoInterest: boolean;
}

/**
 * A gateway connection to a server of another cluster. Outbound connections (dialled by us) carry this
 * cluster's messages to the other one and receive its interest (RS+/RS-), kept here as subscriptions so
 * the router forwards what matches; inbound connections (accepted) carry the other cluster's messages in
 * and are told this cluster's interest by the gateway manager.
 */
export class GatewayConnection extends LinkConnection {
  readonly kind = "gateway";
  readonly spoke = false;
  /** The peer's first INFO. */
  remote: GatewayInfo | undefined;
  /** The peer supports headers (HMSG); otherwise headers are stripped. */
  peerHeaders = true;
  /** The peer switches every account to interest-only mode itself (`gateway_iom`). */
  interestOnly = true;
  /** Do not dial again after this connection closes (a duplicate outbound). */
  noReconnect = false;
  private readonly accountsSeen = new Map<Account, RemoteAccount>();
  private connectSeen = false;

  constructor(
    cid: number,
    transport: Transport,
    private readonly host: GatewayHost,
    /** The remote gateway name: known from the start for outbound connections, from CONNECT for inbound. */
    public remoteName: string,
    /** We dialled it (to this `host:port`). */
    readonly outboundUrl: { key: string; user?: string; pass?: string } | undefined,
    authTimeoutMs: number,
  ) {
    super(cid, transport, host, "gateway", -1);
    // Accepting side: INFO first. Either side: the handshake must be over in time (nats-server has the peer
    // CONNECT within the auth timeout; a peer that then never sends its INFO is dropped too).
    if (outboundUrl === undefined) this.sendProto(`INFO ${host.infoJson()}\r\n`);
    this.setDeadline(authTimeoutMs, () => {
      if (this.outbound) this.close(CloseReason.StaleConnection);
      else this.close(CloseReason.AuthenticationTimeout, "Authentication Timeout");
    });
  }

  get outbound(): boolean {
    return this.outboundUrl !== undefined;
  }

  /** For /gatewayz and /connz: the peer's server id, as nats-server shows it. */
  get connect(): { name?: string } | undefined {
    return this.remote?.server_id === undefined ? undefined : { name: this.remote.server_id };
  }

  protected override pingIntervalMs(): number {
    return Math.min(GATEWAY_PING_MS, this.ctx.options.pingIntervalMs);
  }

  protected peerName(): string {
    return this.remoteName;
  }

  /** Not touch(): gateways PING regardless of traffic, so the RTT keeps being measured. */
  protected override noteInput(): void {
    this.lastActivity = Date.now();
  }

  // ServerParserHandler

  onConnect(json: string): void {
    if (this.outbound || this.connectSeen) return;
    const c = this.parseJson<GatewayConnectInfo>(json);
    if (c === undefined) return;
    if (!this.host.acceptConnect(this, c)) return;
    this.connectSeen = true;
    this.remoteName = c.gateway ?? "";
  }

  onInfo(json: string): void {
    const info = this.parseJson<GatewayInfo>(json);
    if (info === undefined) return;
    if (this.remote === undefined) {
      if (this.outbound) this.firstOutboundInfo(info);
      else this.firstInboundInfo(info);
      return;
    }
    if (!this.outbound || !this.registered) return;
    if (info.gateway === this.remoteName && info.gateway_cmd === GatewayCmd.AllSubsStart) {
      this.allSubsStart(info);
      return;
    }
    if (info.gateway === this.remoteName && info.gateway_cmd === GatewayCmd.AllSubsComplete) {
      this.allSubsComplete(info);
      return;
    }
    this.host.outboundInfo(this, info);
  }

  private firstOutboundInfo(info: GatewayInfo): void {
    const wanted = this.remoteName;
    if (typeof info.gateway !== "string" || info.gateway === "") {
      this.ctx.logger.error(
        `${this.describe()} - Attempt to connect to gateway "${wanted}" using wrong port`,
      );
      this.close(CloseReason.WrongPort, `Attempt to connect to gateway "${wanted}" using wrong port`);
      return;
    }
    if (info.gateway !== wanted) {
      this.ctx.logger.error(
        `${this.describe()} - Failing connection to gateway "${wanted}", remote gateway name is "${info.gateway}"`,
      );
      this.close(
        CloseReason.WrongGateway,
        `Connection from "${this.host.gatewayName}" rejected, wanted to connect to "${wanted}", this is "${info.gateway}"`,
      );
      return;
    }
    this.remote = info;
    this.peerHeaders = info.headers === true;
    this.interestOnly = info.gateway_iom === true;
    this.sendProto(`CONNECT ${this.host.connectJson(this)}\r\nINFO ${this.host.infoJson()}\r\n`);
    if (!this.host.outboundReady(this, info)) return;
    this.registered = true;
    this.clearDeadline();
    this.startPings();
  }

  private firstInboundInfo(info: GatewayInfo): void {
    if (!this.connectSeen) {
      // nats-server sends CONNECT and INFO together, CONNECT first.
      this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
      return;
    }
    this.remote = info;
    if (typeof info.gateway === "string" && info.gateway !== "") this.remoteName = info.gateway;
    this.peerHeaders = info.headers === true;
    if (!this.host.inboundReady(this, info)) return;
    this.registered = true;
    this.clearDeadline();
    this.startPings();
  }

  onInterest(op: InterestOp, args: string[]): void {
    // Interest flows back on outbound connections only (nats-server closes an inbound that sends it).
    if (!this.outbound || !this.registered) return;
    switch (op) {
      case "RS+":
        this.remoteInterest(args[0], args[1], args[2]);
        return;
      case "RS-":
        this.remoteNoInterest(args[0], args[1], args[2]);
        return;
      case "A+":
      case "A-": {
        const account = this.accountOf(args[0]);
        if (account === undefined) return;
        const st = this.stateOf(account);
        st.accountNoInterest = op === "A-";
        return;
      }
      default:
        // SUB/UNSUB (a client on the wrong port) and LS+/LS- are not gateway protos.
        return;
    }
  }

  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void {
    if (!this.registered || (op !== "RMSG" && op !== "HMSG")) return;
    const account = this.accountOf(args[0]);
    const subject = args[1];
    if (account === undefined || subject === undefined) return;
    this.countIn(start, end);
    const m = this.msg.set(subject, undefined, buf, start, hdrLen, end, this);
    readReplyAndQueues(m, args, 2);
    this.host.inboundMessage(this, account, m);
  }

  // LinkOwner

  /** The router chose this (outbound) gateway for a message: send it once, with the queue groups chosen. */
  override forward(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    queues: readonly string[] | undefined,
    shown?: string,
  ): void {
    if (this.closed || !this.registered || !this.outbound) return;
    if (shown !== undefined && reply !== undefined)
      [subject, reply] = jsDeliveryOnWire(subject, reply, shown);
    if (!this.interestOnly && (queues === undefined || queues.length === 0)) {
      // Optimistic mode: what the catch-all brought is dropped where the peer said "no interest".
      const st = this.accountsSeen.get(account);
      if (st !== undefined && st.mode !== "interest-only") {
        if (st.accountNoInterest || st.noInterest?.has(subject)) return;
      }
    }
    const r = reply === undefined ? undefined : this.host.mapReply(account, reply);
    this.send(account, subject, r, queues, buf, start, hdrLen, end);
  }

  /** A `_GR_.` reply going straight back to the cluster that asked (no interest needed). */
  forwardReply(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    if (this.closed || !this.registered || !this.outbound) return;
    this.send(account, subject, reply, undefined, buf, start, hdrLen, end);
  }

  private send(
    account: Account,
    subject: string,
    reply: Token | undefined,
    queues: readonly string[] | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    if (hdrLen > 0 && !this.peerHeaders) {
      start += hdrLen;
      hdrLen = 0;
    }
    this.writeMessage(account, subject, reply, queues, buf, start, hdrLen, end);
  }

  // Remote interest (outbound connections)

  /**
   * A peer without `gateway_iom` expects optimistic sends for every account until it switches the account
   * to interest-only mode: a catch-all subscription stands for that.
   */
  startOptimistic(account: Account): void {
    if (this.interestOnly || !this.outbound || this.closed) return;
    const st = this.stateOf(account);
    if (st.mode === "interest-only" || st.catchAll !== undefined) return;
    const sub = new Subscription(">", undefined, "*optimistic*", this);
    account.addSubscription(sub);
    st.catchAll = sub;
    st.noInterest ??= new Set();
  }

  private stateOf(account: Account): RemoteAccount {
    let st = this.accountsSeen.get(account);
    if (st === undefined) {
      st = {
        mode: this.interestOnly ? "interest-only" : "optimistic",
        catchAll: undefined,
        noInterest: undefined,
        accountNoInterest: false,
      };
      this.accountsSeen.set(account, st);
    }
    return st;
  }

  private allSubsStart(info: GatewayInfo): void {
    const account = this.commandAccount(info, "start");
    if (account === undefined) return;
    const st = this.stateOf(account);
    if (st.mode === "optimistic") st.mode = "transitioning";
  }

  private allSubsComplete(info: GatewayInfo): void {
    const account = this.commandAccount(info, "complete");
    if (account === undefined) return;
    const st = this.stateOf(account);
    st.mode = "interest-only";
    st.noInterest = undefined;
    st.accountNoInterest = false;
    if (st.catchAll !== undefined) {
      st.catchAll.closed = true;
      account.removeSubscription(st.catchAll);
      st.catchAll = undefined;
    }
  }

  private commandAccount(info: GatewayInfo, cmd: string): Account | undefined {
    const name = decodeCmdPayload(info.gateway_cmd_payload);
    if (name === undefined) {
      this.close(
        CloseReason.ProtocolViolation,
        `Account absent from receive-all-subscriptions-${cmd} command`,
      );
      return undefined;
    }
    return this.accountOf(name);
  }

  private accountOf(name: string | undefined): Account | undefined {
    return name === undefined ? undefined : this.host.accountNamed(name);
  }

  private remoteInterest(
    accName: string | undefined,
    subject: string | undefined,
    queue: string | undefined,
  ): void {
    // A queue group's weight is ignored (nats-server always sends 1): another cluster is one candidate.
    const account = this.accountOf(accName);
    if (account === undefined || subject === undefined) return;
    const st = this.stateOf(account);
    if (queue === undefined && st.mode === "optimistic") {
      // The peer takes back an earlier "no interest".
      this.clearNoInterest(st, subject);
      return;
    }
    if (queue === undefined && st.noInterest !== undefined) this.clearNoInterest(st, subject);
    this.interest.add(account, subject, queue);
  }

  private clearNoInterest(st: RemoteAccount, subject: string): void {
    const ni = st.noInterest;
    if (ni === undefined || ni.size === 0) return;
    if (subject.includes("*") || subject.includes(">")) {
      for (const s of ni) if (isSubsetMatch(s, subject)) ni.delete(s);
    } else {
      ni.delete(subject);
    }
  }

  private remoteNoInterest(
    accName: string | undefined,
    subject: string | undefined,
    queue: string | undefined,
  ): void {
    const account = this.accountOf(accName);
    if (account === undefined || subject === undefined) return;
    const st = this.stateOf(account);
    if (this.interest.remove(account, subject, queue)) return;
    // Optimistic mode: "stop sending me this subject".
    if (queue === undefined && st.mode !== "interest-only") {
      st.noInterest ??= new Set();
      st.noInterest.add(subject);
    }
  }

  /** Interest mode per account, for /gatewayz?accs=1. */
  *accountModes(): IterableIterator<{
    account: string;
    mode: InterestMode;
    subs: number;
    queueSubs: number;
    noInterest: number;
  }> {
    for (const [account, st] of this.accountsSeen) {
      let subs = 0;
      let q = 0;
      for (const s of this.interest.subscriptions(account)) {
        subs++;
        if (s.queue !== undefined) q++;
      }
      yield {
        account: account.name,
        mode: st.mode,
        subs,
        queueSubs: q,
        noInterest: st.noInterest?.size ?? 0,
      };
    }
  }

  /** Optimistic mode's catch-all subscriptions leave with the connection too. */
  protected override dropInterest(): void {
    super.dropInterest();
    for (const [account, st] of this.accountsSeen) {
      if (st.catchAll !== undefined) {
        st.catchAll.closed = true;
        account.removeSubscription(st.catchAll);
      }
    }
    this.accountsSeen.clear();
  }
}
