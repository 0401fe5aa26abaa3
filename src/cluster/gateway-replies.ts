import { type Token, tokenText } from "../protocol/encode.js";
import type { Account } from "../server/account.js";
import { Message } from "../server/message.js";
import { type LinkOwner, Subscription } from "../server/subscription.js";
import { SubjectIndex } from "../subjects/subject-index.js";
import type { GatewayConnection } from "./gateway.js";
import { gatewayHash, gatewayReplyPrefix, parseRoutedReply } from "./gateway-info.js";
import type { GatewayServerHost } from "./gateways.js";
import type { RouteConnection } from "./route.js";

/** A request's reply is mapped (`_GR_.`) while a subscription matching it is younger than this. */
const RECENT_SUB_MS = 2000;

/** What reply routing needs of a remote cluster: its hash and its outbound connection. */
export interface ReplyRemote {
  readonly hash: string;
  readonly connection: GatewayConnection | undefined;
}

/**
 * The `_GR_.>` subscription of every account, owned by this. Its kind is "route" on purpose: the router
 * lets a `_GR_.` reply travel route to route (and from clients, leafs and gateways), never to a gateway,
 * and nothing of kind "route" is announced to routes or gateways (only to leaf nodes of this hub, as
 * nats-server does with gateways enabled).
 */
class ReplyRouter implements LinkOwner {
  readonly kind = "route";
  readonly spoke = false;
  readonly echo = true;
  readonly rttMs = 0;

  constructor(
    readonly cid: number,
    private readonly replies: GatewayReplies,
  ) {}

  forward(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    this.replies.routedReply(account, subject, reply, buf, start, hdrLen, end);
  }

  deliver(): void {}

  subscriptionEnded(): void {}
}

/**
 * `_GR_.` reply routing, as nats-server: a request sent over a gateway has its reply rewritten to
 * `_GR_.<cluster hash>.<server hash>.<reply>` when a subscription matching the reply was made within the
 * last 2 s (its interest may not have reached the other clusters yet). Unlike nats-server, the responder's
 * client sees that prefixed reply (Lattice keeps no per-client reply map): publishing to it comes back here,
 * through the `_GR_.>` subscription, and goes straight to the cluster, then the server, that asked.
 */
export class GatewayReplies {
  /** This cluster's hash and this server's (the `_GR_.` prefix of replies we map). */
  readonly clusterHash: string;
  readonly serverHash: string;
  /** Owner of every account's `_GR_.>` subscription (not interest of this cluster). */
  readonly owner: ReplyRouter;
  private readonly replyPrefix: string;
  private readonly replyMsg = new Message();
  /** Subscriptions younger than RECENT_SUB_MS, per account, and in the order they were made. */
  private readonly recent = new Map<Account, SubjectIndex<Subscription>>();
  private recentQueue: { account: Account; sub: Subscription; at: number }[] = [];
  private recentHead = 0;
  private recentTimer: NodeJS.Timeout | undefined;
  /** Route peers' server hashes, by server id. */
  private readonly serverHashes = new Map<string, string>();

  constructor(
    private readonly host: GatewayServerHost,
    clusterName: string,
    private readonly remotes: ReadonlyMap<string, ReplyRemote>,
  ) {
    this.clusterHash = gatewayHash(clusterName);
    this.serverHash = gatewayHash(host.id);
    this.replyPrefix = gatewayReplyPrefix(clusterName, host.id);
    this.owner = new ReplyRouter(host.nextConnectionId(), this);
  }

  /** Add the account's `_GR_.>` catch-all, through which mapped replies come back. */
  subscribe(account: Account): Subscription {
    const sub = new Subscription("_GR_.>", undefined, "_GR_", this.owner);
    account.addSubscription(sub);
    return sub;
  }

  stop(): void {
    if (this.recentTimer !== undefined) clearInterval(this.recentTimer);
    this.recentTimer = undefined;
  }

  // Recent subscriptions (reply mapping)

  trackRecent(account: Account, sub: Subscription, sign: 1 | -1): void {
    let index = this.recent.get(account);
    if (sign < 0) {
      index?.remove(sub);
      return;
    }
    if (index === undefined) {
      index = new SubjectIndex<Subscription>({ cacheSize: 0 });
      this.recent.set(account, index);
    }
    try {
      index.insert(sub);
    } catch {
      return;
    }
    this.recentQueue.push({ account, sub, at: Date.now() });
    if (this.recentTimer === undefined) {
      this.recentTimer = setInterval(() => this.expireRecent(), 250);
      this.recentTimer.unref();
    }
  }

  private expireRecent(): void {
    const q = this.recentQueue;
    const limit = Date.now() - RECENT_SUB_MS;
    let i = this.recentHead;
    while (i < q.length && q[i].at <= limit) {
      this.recent.get(q[i].account)?.remove(q[i].sub);
      i++;
    }
    if (i >= q.length) {
      this.recentQueue = [];
      this.recentHead = 0;
      if (this.recentTimer !== undefined) clearInterval(this.recentTimer);
      this.recentTimer = undefined;
      return;
    }
    if (i > 1024 && i > q.length >> 1) {
      this.recentQueue = q.slice(i);
      this.recentHead = 0;
    } else {
      this.recentHead = i;
    }
  }

  mapReply(account: Account, reply: Token): Token {
    const index = this.recent.get(account);
    if (index === undefined || index.count === 0) return reply;
    const text = typeof reply === "string" ? reply : tokenText(reply);
    return index.hasInterest(text) ? this.replyPrefix + text : reply;
  }

  // Replies

  /**
   * A `_GR_.` subject published here (a responder answering a mapped reply, or forwarded by a route peer):
   * to the cluster that asked, or to the server of this cluster that asked, or delivered here.
   */
  routedReply(
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    const r = parseRoutedReply(subject);
    if (r === undefined) return;
    if (r.cluster !== this.clusterHash) {
      for (const remote of this.remotes.values()) {
        if (remote.hash === r.cluster) {
          remote.connection?.forwardReply(account, subject, reply, buf, start, hdrLen, end);
          return;
        }
      }
      return;
    }
    if (
      r.server !== this.serverHash &&
      this.sendToServer(r.server, account, subject, reply, buf, start, hdrLen, end)
    )
      return;
    const m = this.replyMsg.set(r.subject, reply, buf, start, hdrLen, end, this.owner);
    m.once = true;
    this.host.router.publish(account, m);
  }

  /** A message from another cluster: a `_GR_.` reply goes to the server that asked, the rest is published. */
  inboundMessage(account: Account, m: Message): void {
    const subject = m.subject;
    if (subject.charCodeAt(0) === 0x5f && subject.startsWith("_GR_.")) {
      const r = parseRoutedReply(subject);
      if (r !== undefined) {
        // A reply for another cluster has no business here (nats-server drops it too).
        if (r.cluster !== this.clusterHash) return;
        if (
          r.server !== this.serverHash &&
          this.sendToServer(r.server, account, subject, m.reply, m.buf, m.start, m.hdrLen, m.end)
        )
          return;
        m.subject = r.subject;
        m.once = true;
      }
    }
    this.host.router.publish(account, m);
  }

  /** Pass a `_GR_.` message to the route of the server with that hash; false when there is none. */
  private sendToServer(
    serverHash: string,
    account: Account,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): boolean {
    const route = this.routeByHash(serverHash);
    if (route === undefined) return false;
    route.forward(account, subject, reply, buf, start, hdrLen, end, undefined);
    return true;
  }

  private routeByHash(serverHash: string): RouteConnection | undefined {
    const cluster = this.host.cluster;
    if (cluster === undefined) return undefined;
    for (const route of cluster.routes.values()) {
      const id = route.remote?.server_id;
      if (id === undefined || route.closed) continue;
      let h = this.serverHashes.get(id);
      if (h === undefined) {
        h = gatewayHash(id);
        this.serverHashes.set(id, h);
      }
      if (h === serverHash) return route;
    }
    return undefined;
  }
}
