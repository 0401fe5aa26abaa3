// The system account's services and events, in nats-server's subjects and JSON shapes:
// - events: `$SYS.ACCOUNT.<acc>.CONNECT` / `DISCONNECT`, `$SYS.SERVER.ACCOUNT.<acc>.CONNS`, and
//   `$SYS.SERVER.<id>.STATSZ` every 30 s;
// - requests: `$SYS.REQ.SERVER.PING` (STATSZ), `$SYS.REQ.SERVER.PING.<ENDPOINT>` and
//   `$SYS.REQ.SERVER.<id>.<ENDPOINT>` answered with the monitoring endpoints' JSON, `$SYS.REQ.ACCOUNT.<acc>.
//   <ENDPOINT>` scoped to one account, account JWT updates and lookups (operator mode);
// - `$SYS.REQ.USER.INFO` in every account: who the requester is and what it may do.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { JwtUserGrant } from "../auth/types.js";
import { accountz } from "../monitor/accountz.js";
import { connz } from "../monitor/connz.js";
import { gatewayz } from "../monitor/gatewayz.js";
import { healthz } from "../monitor/healthz.js";
import { jsz } from "../monitor/jsz.js";
import { leafz } from "../monitor/leafz.js";
import { routez } from "../monitor/routez.js";
import { subsz } from "../monitor/subsz.js";
import { HttpError } from "../monitor/types.js";
import { CpuSampler, varz } from "../monitor/varz.js";
import { type Token, tokenText } from "../protocol/encode.js";
import type { Account } from "../server/account.js";
import type { ClientConnection } from "../server/client.js";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import { Message } from "../server/message.js";
import { Subscription, type SubscriptionOwner } from "../server/subscription.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import { asEventClient, clientInfo, type EventClient } from "./client-info.js";
import type { AccountHost, AccountManager, AdmissionListener } from "./manager.js";
import type { Tenant } from "./tenant.js";

export const CLAIMS_UPDATE_SUBJECTS = ["$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", "$SYS.ACCOUNT.*.CLAIMS.UPDATE"];
export const USER_INFO_SUBJECT = "$SYS.REQ.USER.INFO";
export const STATSZ_INTERVAL_MS = 30_000;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The `server` block of `$SYS` messages. */
export interface ServerInfoBlock {
  name: string;
  host: string;
  id: string;
  /** The cluster's name, when the server is in one. */
  cluster?: string;
  ver: string;
  seq: number;
  jetstream: boolean;
  time: string;
  tags?: string[];
  domain?: string;
}

type Builder = (q: URLSearchParams, now: Date) => unknown;

/** nats-server's request options (JSON bodies) → the monitoring endpoints' query parameters. */
function queryFrom(body: Uint8Array, forcedAccount?: string): URLSearchParams {
  const q = new URLSearchParams();
  let o: Record<string, unknown> = {};
  if (body.length > 0) {
    try {
      const parsed = JSON.parse(decoder.decode(body)) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
        o = parsed as Record<string, unknown>;
      }
    } catch {
      throw new HttpError(400, "invalid request options");
    }
  }
  const set = (name: string, v: unknown) => {
    if (v === undefined || v === null || v === "" || v === false || v === 0) return;
    q.set(name, String(v));
  };
  set("sort", o.sort);
  set("auth", o.auth === true ? "true" : undefined);
  if (o.subscriptions_detail === true) q.set("subs", "detail");
  else set("subs", o.subscriptions === true ? "true" : undefined);
  set("offset", o.offset);
  set("limit", o.limit);
  set("cid", o.cid);
  if (typeof o.state === "number") q.set("state", ["open", "closed", "all"][o.state] ?? "open");
  set("user", o.user);
  set("acc", forcedAccount ?? o.account ?? o.acc);
  set("test", o.test);
  set("accounts", o.accounts === true ? "true" : undefined);
  set("streams", o.streams === true ? "true" : undefined);
  set("consumers", o.consumer === true || o.consumers === true ? "true" : undefined);
  set("config", o.config === true ? "true" : undefined);
  set("leader-only", o.leader_only === true ? "true" : undefined);
  set("js-enabled-only", o["js-enabled-only"] === true || o.js_enabled_only === true ? "true" : undefined);
  set("js-server-only", o["js-server-only"] === true || o.js_server_only === true ? "true" : undefined);
  return q;
}

function eventId(): string {
  return randomBytes(16).toString("base64url").slice(0, 22);
}

export class SystemServices implements AdmissionListener {
  readonly client: InternalClient;
  private seq = 0;
  private stopped = false;
  private statszTimer: NodeJS.Timeout | undefined;
  private readonly cpu = new CpuSampler();
  private readonly endpoints: Map<string, Builder>;
  private readonly userInfo: UserInfoService;

  constructor(
    protected readonly host: AccountHost,
    protected readonly manager: AccountManager,
    readonly account: Account,
  ) {
    this.client = host.createInternalClient("$SYS", account);
    const h = host;
    this.endpoints = new Map<string, Builder>([
      [
        "VARZ",
        (_q, now) =>
          varz(h, { httpPort: this.httpPort(), httpReqStats: new Map(), cpu: this.cpu.sample() }, now),
      ],
      ["CONNZ", (q, now) => connz(h, q, now)],
      ["SUBSZ", (q, now) => subsz(h, q, now)],
      ["ROUTEZ", (q, now) => routez(h, q, now)],
      ["GATEWAYZ", (q, now) => gatewayz(h, q, now)],
      ["LEAFZ", (q, now) => leafz(h, q, now)],
      ["ACCOUNTZ", (q, now) => accountz(h, q, now)],
      ["JSZ", (q, now) => jsz(h, q, now)],
      ["HEALTHZ", (q) => healthz(h, q).body],
    ]);
    this.userInfo = new UserInfoService(this, (c) => manager.recordOf(c)?.grant);
  }

  private httpPort(): number {
    const url = this.host.listenerUrls().monitoring?.[0];
    return url ? Number(new URL(url).port) : 0;
  }

  start(): void {
    const id = this.host.id;
    if (this.manager.operatorMode) {
      for (const s of CLAIMS_UPDATE_SUBJECTS) this.handle(s, (m) => this.claimsUpdate(m));
      this.handle("$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP", (m) => this.claimsLookup(m));
    }
    this.handle("$SYS.REQ.SERVER.PING", (m) => this.respond(m, { statsz: this.statsz() }));
    this.handle("$SYS.REQ.SERVER.PING.*", (m) => this.endpoint(m, m.subject.slice(21)));
    this.handle(`$SYS.REQ.SERVER.${id}.*`, (m) => this.endpoint(m, m.subject.split(".").pop()!));
    for (const ep of ["CONNZ", "SUBSZ", "JSZ", "INFO", "CONNS"]) {
      this.handle(`$SYS.REQ.ACCOUNT.*.${ep}`, (m) => this.accountEndpoint(m, m.subject.split(".")[3], ep));
    }
    for (const t of this.manager.tenants.values()) this.userInfo.add(t.account);
    this.statszTimer = setInterval(() => this.publishStatsz(), STATSZ_INTERVAL_MS);
    this.statszTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.statszTimer) clearInterval(this.statszTimer);
    this.userInfo.close();
    this.client.close();
  }

  /** A new account (operator mode loads them on demand) gets the per-account services. */
  accountAdded(account: Account): void {
    if (!this.stopped) this.userInfo.add(account);
  }

  /**
   * Subscribes `handler`, run after the publish that delivered the message has finished (so handlers may
   * close clients and publish freely); the message is copied first.
   */
  private handle(subject: string, handler: (m: InternalMessage) => void): void {
    this.client.subscribe(subject, (m) => {
      const copy: InternalMessage = {
        subject: m.subject,
        reply: m.reply,
        headers: m.headers?.slice(),
        data: m.data.slice(),
      };
      this.later(() => handler(copy));
    });
  }

  later(fn: () => void): void {
    queueMicrotask(() => {
      if (this.stopped) return;
      try {
        fn();
      } catch (err) {
        this.host.logger.error(`system account service: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
  }

  serverInfo(): ServerInfoBlock {
    const o = this.host.options;
    const info: ServerInfoBlock = {
      name: this.host.name,
      host: o.host,
      id: this.host.id,
      ...(this.host.cluster !== undefined ? { cluster: this.host.cluster.clusterName } : {}),
      ver: NATS_FEATURE_LEVEL,
      seq: ++this.seq,
      jetstream: this.host.jetStreamEnabled,
      time: new Date().toISOString(),
    };
    if (o.jetstream?.domain) info.domain = o.jetstream.domain;
    if (o.tags.length > 0) info.tags = o.tags;
    return info;
  }

  /** Publishes a JSON body in the system account. */
  publishJson(subject: string, body: unknown, account?: Account): void {
    if (this.stopped) return;
    const data = encoder.encode(JSON.stringify(body));
    if (account === undefined || account === this.account) this.client.publish(subject, undefined, data);
    else
      this.host.router.publish(
        account,
        new Message().set(subject, undefined, data, 0, 0, data.length, this.client),
      );
  }

  /** Replies `{"server": ..., ...body}` (body holds `data`, `error` or `statsz`) to a request. */
  respond(m: Pick<InternalMessage, "reply">, body: Record<string, unknown>, account?: Account): void {
    if (m.reply === undefined) return;
    this.publishJson(m.reply, { server: this.serverInfo(), ...body }, account);
  }

  private claimsUpdate(m: InternalMessage): void {
    const key = m.subject.split(".")[m.subject.startsWith("$SYS.REQ.") ? 3 : 2];
    const r = this.manager.updateClaims(key, decoder.decode(m.data));
    // Answered once what follows the account (JetStream) applied the new claims.
    void this.manager.settled().then(() => {
      if (r.code === 200) this.respond(m, { data: { account: key, code: r.code, message: r.message } });
      else this.respond(m, { error: { account: key, code: r.code, description: r.message } });
    });
  }

  private claimsLookup(m: InternalMessage): void {
    if (m.reply === undefined) return;
    const jwt = this.manager.resolver?.fetch(m.subject.split(".")[3]);
    // nats-server answers with the JWT itself, or nothing when it has none.
    if (jwt !== undefined) this.client.publish(m.reply, undefined, encoder.encode(jwt));
  }

  private build(m: InternalMessage, name: string, forcedAccount?: string): Record<string, unknown> {
    const builder = this.endpoints.get(name.toUpperCase());
    if (builder === undefined) return { error: { code: 400, description: `unknown endpoint ${name}` } };
    try {
      return { data: builder(queryFrom(m.data, forcedAccount), new Date()) };
    } catch (err) {
      const code = err instanceof HttpError ? err.status : 500;
      return { error: { code, description: err instanceof Error ? err.message : String(err) } };
    }
  }

  private endpoint(m: InternalMessage, name: string): void {
    if (name === "STATSZ") {
      this.respond(m, { statsz: this.statsz() });
      return;
    }
    this.respond(m, this.build(m, name));
  }

  private accountEndpoint(m: InternalMessage, account: string, ep: string): void {
    if (!this.host.accounts.has(account)) {
      this.respond(m, { error: { code: 404, description: `account "${account}" not found` } });
      return;
    }
    if (ep === "INFO") {
      this.respond(m, this.build(m, "ACCOUNTZ", account));
      return;
    }
    if (ep === "CONNS") {
      this.respond(m, this.accountConns(this.manager.tenants.get(account)));
      return;
    }
    this.respond(m, this.build(m, ep, account));
  }

  statsz(): Record<string, unknown> {
    const h = this.host;
    const s = h.stats;
    let active = 0;
    for (const t of this.manager.tenants.values()) if (t.clients.size > 0) active++;
    return {
      start: h.startTime.toISOString(),
      mem: process.memoryUsage.rss(),
      cores: availableParallelism(),
      cpu: this.cpu.sample(),
      connections: h.clients.size,
      total_connections: s.totalConnections,
      active_accounts: active,
      subscriptions: h.subscriptionCount,
      sent: { msgs: s.outMsgs, bytes: s.outBytes },
      received: { msgs: s.inMsgs, bytes: s.inBytes },
      slow_consumers: s.slowConsumers,
      ...this.routeStats(),
      // This server and every peer it has a route to (nats-server counts the servers it heard from).
      active_servers: 1 + (h.cluster?.routes.size ?? 0),
    };
  }

  /** `routes` of STATSZ: each route's traffic, omitted without routes (as nats-server's omitempty). */
  private routeStats(): { routes?: object[] } {
    const routes = this.host.cluster?.routes;
    if (routes === undefined || routes.size === 0) return {};
    return {
      routes: [...routes.values()].map((r) => {
        const rs: Record<string, unknown> = { rid: r.cid };
        if (r.remote?.server_name) rs.name = r.remote.server_name;
        rs.sent = { msgs: r.stats.outMsgs, bytes: r.stats.outBytes };
        rs.received = { msgs: r.stats.inMsgs, bytes: r.stats.inBytes };
        rs.pending = r.pendingBytes;
        return rs;
      }),
    };
  }

  private publishStatsz(): void {
    this.publishJson(`$SYS.SERVER.${this.host.id}.STATSZ`, {
      server: this.serverInfo(),
      statsz: this.statsz(),
    });
  }

  private accountConns(t: Tenant | undefined): Record<string, unknown> {
    const sent = { msgs: 0, bytes: 0 };
    const received = { msgs: 0, bytes: 0 };
    for (const c of t?.clients.keys() ?? []) {
      sent.msgs += c.stats.outMsgs;
      sent.bytes += c.stats.outBytes;
      received.msgs += c.stats.inMsgs;
      received.bytes += c.stats.inBytes;
    }
    return {
      type: "io.nats.server.advisory.v1.account_connections",
      id: eventId(),
      timestamp: new Date().toISOString(),
      server: this.serverInfo(),
      acc: t?.name ?? "",
      conns: t?.clients.size ?? 0,
      leafnodes: 0,
      total_conns: t?.clients.size ?? 0,
      sent,
      received,
      slow_consumers: 0,
    };
  }

  clientAdmitted(client: ClientConnection, tenant: Tenant): void {
    const grant = this.manager.recordOf(client)?.grant;
    this.later(() => {
      this.publishJson(`$SYS.ACCOUNT.${tenant.name}.CONNECT`, {
        type: "io.nats.server.advisory.v1.client_connect",
        id: eventId(),
        timestamp: new Date().toISOString(),
        server: this.serverInfo(),
        client: clientInfo(client, grant),
      });
      this.publishConns(tenant);
    });
  }

  clientLeft(client: ClientConnection, tenant: Tenant, grant: JwtUserGrant | undefined): void {
    this.later(() => {
      this.publishJson(`$SYS.ACCOUNT.${tenant.name}.DISCONNECT`, {
        type: "io.nats.server.advisory.v1.client_disconnect",
        id: eventId(),
        timestamp: new Date().toISOString(),
        server: this.serverInfo(),
        client: clientInfo(client, grant, true),
        sent: { msgs: client.stats.outMsgs, bytes: client.stats.outBytes },
        received: { msgs: client.stats.inMsgs, bytes: client.stats.inBytes },
        reason: client.closeReason ?? "",
      });
      this.publishConns(tenant);
    });
  }

  authFailed(client: ClientConnection): void {
    this.later(() => {
      this.publishJson(`$SYS.SERVER.${this.host.id}.CLIENT.AUTH.ERR`, {
        type: "io.nats.server.advisory.v1.client_disconnect",
        id: eventId(),
        timestamp: new Date().toISOString(),
        server: this.serverInfo(),
        client: clientInfo(client, undefined, true),
        sent: { msgs: client.stats.outMsgs, bytes: client.stats.outBytes },
        received: { msgs: client.stats.inMsgs, bytes: client.stats.inBytes },
        reason: client.closeReason ?? "",
      });
    });
  }

  private publishConns(t: Tenant): void {
    const body = this.accountConns(t);
    this.publishJson(`$SYS.SERVER.ACCOUNT.${t.name}.CONNS`, body);
    this.publishJson(`$SYS.ACCOUNT.${t.name}.SERVER.CONNS`, body);
  }
}

/**
 * `$SYS.REQ.USER.INFO`, answered in the requester's own account: its user, account, permissions and the
 * time left before its credentials expire.
 */
class UserInfoService implements SubscriptionOwner {
  readonly kind = "system";
  readonly cid = 0;
  readonly echo = true;
  private readonly subs = new Map<Subscription, Account>();

  constructor(
    private readonly system: SystemServices,
    private readonly grantOf: (c: ClientConnection) => JwtUserGrant | undefined,
  ) {}

  add(account: Account): void {
    for (const a of this.subs.values()) if (a === account) return;
    const sub = new Subscription(USER_INFO_SUBJECT, undefined, "userinfo", this);
    this.subs.set(sub, account);
    account.addSubscription(sub);
  }

  deliver(
    sub: Subscription,
    _subject: string,
    replyToken: Token | undefined,
    _buf: Uint8Array,
    _start: number,
    _hdrLen: number,
    _end: number,
    origin?: SubscriptionOwner,
  ): void {
    const reply = replyToken === undefined ? undefined : tokenText(replyToken);
    const account = this.subs.get(sub);
    const c = asEventClient(origin) as (EventClient & { permissions?: { describe(): object } }) | undefined;
    if (reply === undefined || account === undefined || c === undefined) return;
    const grant = this.grantOf(c as unknown as ClientConnection);
    const data: Record<string, unknown> = { user: c.user ?? "", account: account.name };
    const perms = c.permissions?.describe();
    if (perms !== undefined && Object.keys(perms).length > 0) data.permissions = perms;
    if (grant?.expiresAt !== undefined) data.expires = Math.max(0, grant.expiresAt - Date.now()) * 1e6;
    this.system.later(() => this.system.respond({ reply }, { data }, account));
  }

  subscriptionEnded(): void {}

  close(): void {
    for (const [sub, account] of this.subs) {
      sub.closed = true;
      account.removeSubscription(sub);
    }
    this.subs.clear();
  }
}
