import type { ConnectionOptions } from "node:tls";
import type { UserPermissions } from "../auth/types.js";
import { interestLine, noInterestLine } from "../protocol/link-frames.js";
import type { InterestOp, MessageOp } from "../protocol/server-parser.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import type { ConnectionContext } from "../server/connection.js";
import type { Router } from "../server/router.js";
import type { Transport } from "../server/transport.js";
import { isSubsetMatch, subjectMatches } from "../subjects/pattern.js";
import { isLiteralSubject } from "../subjects/validate.js";
import type { LeafConnectInfo, LeafInfo } from "./leaf-info.js";
import { LeafPermissions } from "./leaf-permissions.js";
import { LinkConnection, readReplyAndQueues } from "./link-connection.js";
import { interestKey } from "./local-interest.js";
import { queueWeight } from "./remote-interest.js";
import { UpgradableTransport } from "./upgradable-transport.js";

/** A spoke waits this long for the hub's second INFO (`info_on_connect`) before giving up on the link. */
const CONNECT_INFO_TIMEOUT_MS = 2000;

/** What a leaf link needs from the leaf-node manager. */
export interface LeafHost extends ConnectionContext {
  readonly router: Router;
  /** Hub side: the INFO sent first (and, with `connect_info`, again once the spoke is bound). */
  hubInfoJson(leaf: LeafConnection, extra?: Record<string, unknown>): string;
  /**
   * Hub side: check the spoke's CONNECT and bind it to an account, with the leaf user's permissions; a
   * string is the refusal.
   */
  bind(
    leaf: LeafConnection,
    connect: LeafConnectInfo,
  ): Promise<{ account: Account; permissions?: UserPermissions } | string>;
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
export class LeafConnection extends LinkConnection {
  readonly kind = "leaf";
  /** This server is the spoke of this link: what arrives over it stays on this server and its leafs. */
  spoke: boolean;
  /** The peer's INFO (spoke side) or CONNECT (hub side). */
  remoteInfo: LeafInfo | undefined;
  remoteConnect: LeafConnectInfo | undefined;
  /** What this link was told, keyed `subject` or `subject queue`, with the weight told. */
  readonly sent = new Map<string, number>();
  private binding = false;
  /** Set when the peer reported a loop (or we detected one): the dialler waits 30 s before trying again. */
  loopDetected = false;
  /** Hub side: the nonce in our INFO, signed by nkey/JWT spokes. */
  nonce: string | undefined;
  /** The error the peer sent before closing, for the dialler's back-off rules. */
  lastError: string | undefined;
  /**
   * The leaf user's permissions: on the hub from its authentication, on the spoke from the hub's INFO.
   * See LeafPermissions for what each side filters.
   */
  permissions: LeafPermissions | undefined;

  constructor(
    cid: number,
    transport: Transport,
    private readonly host: LeafHost,
    /** Set on the dialling side: the remote's account and options. */
    readonly remote:
      | {
          account: Account;
          hub: boolean;
          url: string;
          index: number;
          /** The remote's `deny_imports`: interest not announced and messages not accepted. */
          denyImports?: readonly string[];
          /** The remote's `deny_exports`: messages not sent to the hub. */
          denyExports?: readonly string[];
          /**
           * TLS after the hub's INFO (unset on websockets; a TLS-first socket is secured already): always
           * when `required` (a `tls { }` block or a `tls://` URL), else when the INFO says `tls_required`.
           */
          tls?: { client: ConnectionOptions; timeoutMs: number; required: boolean };
        }
      | undefined,
    authTimeoutMs: number,
  ) {
    super(cid, transport, host, "leaf", host.options.maxPayload);
    this.spoke = remote !== undefined && !remote.hub;
    if (remote !== undefined) this.account = remote.account;
    if (remote === undefined) {
      this.sendProto(`INFO ${host.hubInfoJson(this)}\r\n`);
      this.setDeadline(authTimeoutMs, () => {
        if (!this.registered) this.close(CloseReason.AuthenticationTimeout, "Authentication Timeout");
      });
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

  /** A link this server is the hub of: the cluster of the servers behind it, when they have one. */
  get leafCluster(): string | undefined {
    if (this.solicited || this.spoke) return undefined;
    return this.remoteConnect?.cluster || undefined;
  }

  protected override pingIntervalMs(): number {
    return Math.min(30_000, this.ctx.options.pingIntervalMs);
  }

  protected peerName(): string {
    return this.remoteName;
  }

  onInfo(json: string): void {
    const info = this.parseJson<LeafInfo>(json);
    if (info === undefined) return;
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
      this.takePermissions(info);
      this.secureIfAsked(info);
      this.sendProto(`CONNECT ${this.host.connectJson(this, info)}\r\n`);
      if (info.info_on_connect) {
        // The hub tells us which account we are bound to first; interest waits for that.
        this.setDeadline(CONNECT_INFO_TIMEOUT_MS, () => {
          if (this.registered) return;
          this.ctx.logger.error(`${this.describe()} - Stale Leaf Node Connection - Closing`);
          this.close(CloseReason.StaleConnection);
        });
        return;
      }
      this.ready();
      return;
    }
    this.takePermissions(info);
    if (info.connect_info && !this.registered) {
      this.clearDeadline();
      this.remoteInfo = { ...this.remoteInfo, ...info };
      this.ready();
    }
  }

  /** Spoke side: the leaf user's permissions, when the hub's INFO carries them (after the CONNECT). */
  private takePermissions(info: LeafInfo): void {
    if (info.import === undefined && info.export === undefined) return;
    this.permissions = LeafPermissions.fromInfo(info.export, info.import);
  }

  /** Spoke side: start TLS before the CONNECT (which waits for the handshake) when the remote or hub asks. */
  private secureIfAsked(info: LeafInfo): void {
    const tls = this.remote?.tls;
    const t = this.transport;
    if (tls === undefined || !(t instanceof UpgradableTransport) || t.upgraded) return;
    if (!tls.required && !info.tls_required) return;
    t.startTls(tls.client, tls.timeoutMs, (reason) => {
      this.ctx.logger.error(`${this.describe()} - TLS leafnode handshake error: ${reason}`);
      this.close(CloseReason.TLSHandshakeError);
    });
  }

  onConnect(json: string): void {
    if (this.solicited || this.remoteConnect !== undefined || this.binding) return;
    const c = this.parseJson<LeafConnectInfo>(json);
    if (c === undefined) return;
    if (this.refusesGateway(c, "leafnode port")) return;
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
        this.account = result.account;
        this.permissions = LeafPermissions.from(result.permissions);
        this.clearDeadline();
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
      const extra = { connect_info: true, remote_account: account.name, ...this.permissions?.toInfo() };
      this.sendProto(`INFO ${this.host.hubInfoJson(this, extra)}\r\n`);
    }
    this.host.sendAllInterest(this);
    this.startPings();
    return true;
  }

  /** The dialler's back-off depends on the error the hub sent before closing. */
  override onErr(text: string): void {
    this.lastError = text;
    if (text.startsWith("Loop detected")) this.loopDetected = true;
    super.onErr(text);
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
      if (!this.interestAllowed(subject)) return;
      // The table records the peer's entry before the index hears of it (and drops it before a removal),
      // so what the interest callbacks tell this link leaves out the peer's own interest.
      this.interest.add(account, subject, op === "SUB" ? undefined : args[1], queueWeight(args[2]));
    } else if (op === "LS-" || op === "RS-" || op === "UNSUB") {
      const subject = args[0];
      if (subject === undefined) return;
      this.interest.remove(account, subject, args[1]);
    }
  }

  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void {
    if (!this.registered) return;
    const subject = args[0];
    if (subject === undefined) return;
    this.countIn(start, end);
    const mapped = this.account!.mapSubject(subject);
    const m = this.msg.set(mapped, undefined, buf, start, hdrLen, end, this);
    readReplyAndQueues(m, args, 1, op !== "MSG" || args.length > 2);
    m.anyQueue = m.queues === undefined && mapped !== subject;
    // The domain rule applies to the subject routed on (a JetStream delivery shows its stream subject).
    if (crossesNoDomain(m.subject) || denied(this.remote?.denyImports, m.subject)) return;
    // The hub drops what the leaf user may not publish (its spoke should not have sent it).
    if (!this.solicited && this.permissions?.mayPublish(m.subject) === false) return;
    m.leafOrigin = this.leafCluster;
    this.host.router.publish(this.account!, m);
  }

  /** JetStream stays inside its domain (see crossesNoDomain). */
  protected override carries(subject: string): boolean {
    if (crossesNoDomain(subject) || denied(this.remote?.denyExports, subject)) return false;
    const p = this.permissions;
    if (p === undefined) return true;
    return this.solicited ? p.mayPublish(subject) : p.mayReceive(subject);
  }

  /**
   * The peer's LS+ against the leaf user's permissions. The hub refuses a literal subject the leaf may not
   * receive (-ERR, log, close, as nats-server); the spoke ignores a literal subject it may not publish to.
   */
  private interestAllowed(subject: string): boolean {
    const p = this.permissions;
    if (p === undefined || !isLiteralSubject(subject)) return true;
    if (this.solicited) return p.mayPublish(subject);
    if (p.mayReceive(subject)) return true;
    this.ctx.logger.error(
      `${this.describe()} - Subscription Violation on "${subject}" - Check other side configuration`,
    );
    this.close(CloseReason.ProtocolViolation, `Permissions Violation for Subscription to "${subject}"`);
    return false;
  }

  /** Bring what the peer was told for one subject (and queue) to `weight` (0 = no interest). */
  tell(subject: string, queue: string | undefined, weight: number): void {
    if (!this.registered || this.closed || crossesNoDomain(subject)) return;
    if (weight > 0 && deniedInterest(this.remote?.denyImports, subject)) return;
    if (weight > 0 && !this.mayAnnounce(subject)) return;
    const key = interestKey(subject, queue);
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

  /** Interest the leaf user's permissions let this side announce: the hub, what the leaf may publish to. */
  private mayAnnounce(subject: string): boolean {
    const p = this.permissions;
    if (p === undefined) return true;
    return this.solicited ? p.subscribeCovers(subject) : p.publishCovers(subject);
  }

  /** The weight of the peer's own interest in a key (subtracted from what the hub tells it). */
  ownWeight(subject: string, queue: string | undefined): number {
    const sub = this.account === undefined ? undefined : this.interest.get(this.account, subject, queue);
    return sub === undefined ? 0 : queue === undefined ? 1 : sub.weight;
  }

  /** The peer's subscriptions (for /leafz?subs=1). */
  remoteSubjects(): string[] {
    return [...this.interest.entries()].map(({ sub }) => interestKey(sub.subject, sub.queue));
  }

  /** What the link was told goes with it too. */
  protected override dropInterest(): void {
    super.dropInterest();
    this.sent.clear();
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

/** A subject one of the deny patterns matches. */
function denied(patterns: readonly string[] | undefined, subject: string): boolean {
  if (patterns === undefined) return false;
  for (const p of patterns) if (subjectMatches(p, subject)) return true;
  return false;
}

/** Interest wholly inside a deny pattern is not announced (a wider one is, and its messages are filtered). */
function deniedInterest(patterns: readonly string[] | undefined, subject: string): boolean {
  if (patterns === undefined) return false;
  for (const p of patterns) if (isSubsetMatch(subject, p)) return true;
  return false;
}
