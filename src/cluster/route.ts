import { interestLine, noInterestLine } from "../protocol/link-frames.js";
import type { InterestOp, MessageOp } from "../protocol/server-parser.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import type { ConnectionContext } from "../server/connection.js";
import type { Router } from "../server/router.js";
import type { Transport } from "../server/transport.js";
import { LinkConnection, readReplyAndQueues } from "./link-connection.js";
import type { InterestEntry } from "./local-interest.js";
import { queueWeight } from "./remote-interest.js";
import type { RouteConnectInfo, RouteInfo } from "./route-info.js";

/** Routes PING at most this often, whatever the client ping interval (as nats-server). */
const ROUTE_PING_MS = 30_000;

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
  /** The `cluster { }` block: its `ping_interval` and `ping_max`, when set, pace route PINGs. */
  readonly config?: { readonly pingIntervalMs?: number; readonly pingMax?: number };
}

/**
 * A route: one server of this cluster, reached over TCP. It carries every account (names on each proto),
 * tells the peer this server's interest (RS+/RS-), keeps the peer's interest as subscriptions in the
 * accounts' subject indexes, and forwards messages once per publish with the queue groups chosen for it.
 */
export class RouteConnection extends LinkConnection {
  readonly kind = "route";
  readonly spoke = false;
  /** The peer's INFO once it arrived. */
  remote: RouteInfo | undefined;
  private connectSeen = false;
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
    super(cid, transport, host, "route", -1);
    if (solicitedUrl === undefined) {
      // Accepting side: INFO first, then the peer must CONNECT in time.
      this.sendProto(`INFO ${host.routeInfoJson()}\r\n`);
      this.setDeadline(authTimeoutMs, () =>
        this.close(CloseReason.AuthenticationTimeout, "Authentication Timeout"),
      );
    }
  }

  get solicited(): boolean {
    return this.solicitedUrl !== undefined;
  }

  protected override pingIntervalMs(): number {
    return Math.min(ROUTE_PING_MS, this.host.config?.pingIntervalMs ?? this.ctx.options.pingIntervalMs);
  }

  protected override maxPingsOut(): number {
    const max = this.host.config?.pingMax;
    return max !== undefined && max > 0 ? max : this.ctx.options.pingMax;
  }

  protected peerName(): string | undefined {
    return this.remote?.server_name ?? this.remote?.server_id;
  }

  onConnect(json: string): void {
    if (this.solicited) return;
    const c = this.parseJson<RouteConnectInfo>(json);
    if (c === undefined) return;
    if (this.refusesGateway(c, "Route port")) return;
    const refusal = this.host.checkConnect(c);
    if (refusal !== undefined) {
      this.ctx.logger.error(`${this.describe()} - ${refusal}`);
      this.close(CloseReason.AuthenticationViolation, "Authorization Violation");
      return;
    }
    this.connectSeen = true;
    this.clearDeadline();
  }

  onInfo(json: string): void {
    const info = this.parseJson<RouteInfo>(json);
    if (info === undefined) return;
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
    this.countIn(start, end);
    const m = this.msg.set(subject, undefined, buf, start, hdrLen, end, this);
    readReplyAndQueues(m, args, base + 2);
    if (op === "LMSG" && args[0] !== "") m.leafOrigin = args[0];
    this.host.router.publish(account, m);
  }

  /** A message that entered the cluster over a leaf link goes as LMSG naming that leaf cluster. */
  protected override originOnWire(leafOrigin: string | undefined): string | undefined {
    return this.remote?.lnoc === true ? leafOrigin : undefined;
  }

  /** Tell the peer about a change in this server's interest. */
  sendInterest(account: Account, entry: InterestEntry, add: boolean): void {
    if (!this.registered || this.closed || !this.host.mayImport(entry.subject, entry.queue)) return;
    if (add) this.sendProto(interestLine("RS+", account.name, entry.subject, entry.queue, entry.count));
    else this.sendProto(noInterestLine("RS-", account.name, entry.subject, entry.queue));
  }

  private sendAllInterest(): void {
    this.sendLines(this.allInterestLines());
  }

  private *allInterestLines(): IterableIterator<string> {
    for (const [account, entries] of this.host.localInterest()) {
      for (const e of entries)
        if (this.host.mayImport(e.subject, e.queue))
          yield interestLine("RS+", account.name, e.subject, e.queue, e.count);
    }
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
    this.interest.add(account, subject, queue, queueWeight(weightText));
  }

  private remoteNoInterest(
    accName: string | undefined,
    subject: string | undefined,
    queue: string | undefined,
  ): void {
    const account = this.accountOf(accName);
    if (account === undefined || subject === undefined) return;
    this.interest.remove(account, subject, queue);
  }
}
