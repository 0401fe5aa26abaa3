import { RESERVED_QUEUE } from "../auth/permissions.js";
import type { Token } from "../protocol/encode.js";
import type { Account } from "./account.js";
import type { Message } from "./message.js";
import type { ReceiverKind } from "./receiver.js";
import type { LinkOwner, Subscription, SubscriptionOwner } from "./subscription.js";

/** Message tracing (msg-trace.ts): who a traced message reaches, and whether it is delivered at all. */
export interface TraceSink {
  /** false for `Nats-Trace-Only`: receivers are reported, nothing is delivered. */
  readonly deliver: boolean;
  reached(sub: Subscription): void;
}

/**
 * The links one publish reaches, each with the queue groups chosen on it. One per publish depth (a
 * delivery may publish again synchronously), reused across publishes.
 */
class LinkTargets {
  readonly links: LinkOwner[] = [];
  readonly queues: (string[] | undefined)[] = [];
  n = 0;

  add(link: LinkOwner, queue: string | undefined): void {
    const links = this.links;
    let i = 0;
    while (i < this.n && links[i] !== link) i++;
    if (i === this.n) {
      links[i] = link;
      this.queues[i] = undefined;
      this.n++;
    }
    if (queue !== undefined) {
      const q = this.queues[i];
      if (q === undefined) this.queues[i] = [queue];
      else q.push(queue);
    }
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) {
      this.links[i] = undefined as unknown as LinkOwner;
      this.queues[i] = undefined;
    }
    this.n = 0;
  }
}

/**
 * Message delivery inside one server: the one fan-out loop. Each plain subscription gets a copy, each queue
 * group one member; subscriptions that stand for another server (route, gateway, leaf link) are collected
 * and the message crosses each link once, naming the queue groups chosen there. Knows nothing of sockets.
 *
 * Link rules, as nats-server: a message that arrived over a route goes only to local receivers and to leaf
 * nodes connected to us as their hub (never route to route, except gateway replies); one from a gateway
 * goes to the local cluster and leaf nodes, never to another gateway; one from our hub (we are its spoke)
 * is not passed on to routes. A link never gets back what came from it.
 */
export class Router {
  /** Messages routed, and deliveries made, for monitoring. */
  routed = 0;
  deliveries = 0;
  private depth = 0;
  private readonly targets: LinkTargets[] = [];

  /**
   * Route `m` in `account`. Returns how many receivers got it (a link counts once: 0 means nobody was
   * listening anywhere). With `trace`, each receiver is reported to it, and delivery happens only when it
   * says so (`Nats-Trace-Only`).
   */
  publish(account: Account, m: Message, trace?: TraceSink): number {
    this.routed++;
    const subject = m.subject;
    const reply = m.reply;
    const buf = m.buf;
    const start = m.start;
    const hdrLen = m.hdrLen;
    const end = m.end;
    const origin = m.origin;
    const shown = m.shown;
    const filter = m.queues;
    const anyQueue = m.anyQueue;
    const leafOrigin = m.leafOrigin;
    const result = account.sublist.match(subject, m.once || isAckSubject(subject));
    const skipOwn = origin !== undefined && !origin.echo ? origin : undefined;
    const fromKind: ReceiverKind = origin === undefined ? "system" : origin.kind;
    const fromLink = fromKind === "route" || fromKind === "gateway" || fromKind === "leaf";
    if (trace === undefined && !result.remote) {
      // Only this server's receivers: no link rules, no targets (the common case on a single server).
      let delivered = 0;
      const plain = result.plain;
      for (let i = 0; i < plain.length; i++) {
        const sub = plain[i];
        if (sub.closed || sub.owner === skipOwn) continue;
        if (deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) delivered++;
      }
      const queues = result.queues;
      for (let g = 0; g < queues.length; g++) {
        const members = queues[g];
        const n = members.length;
        if (n === 0) continue;
        if (fromLink && !anyQueue && !groupChosen(fromKind, filter, members[0].queue)) continue;
        const first = n === 1 ? 0 : Math.floor(Math.random() * n);
        for (let k = 0; k < n; k++) {
          const sub = members[(first + k) % n];
          if (sub.closed || sub.owner === skipOwn) continue;
          if (deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) {
            delivered++;
            break;
          }
        }
      }
      this.deliveries += delivered;
      return delivered;
    }
    const deliverNow = trace === undefined || trace.deliver;

    const depth = this.depth++;
    let targets = this.targets[depth];
    if (targets === undefined) {
      targets = new LinkTargets();
      this.targets[depth] = targets;
    }
    let delivered = 0;
    try {
      const plain = result.plain;
      for (let i = 0; i < plain.length; i++) {
        const sub = plain[i];
        if (sub.closed || sub.owner === skipOwn) continue;
        const owner = sub.owner;
        if (sub.remote) {
          const link = owner as LinkOwner;
          if (link === origin || !mayForward(fromKind, origin, link, subject, leafOrigin)) continue;
          if (trace !== undefined) trace.reached(sub);
          targets.add(link, undefined);
          continue;
        }
        if (deliverNow) {
          if (!deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) continue;
        } else if (sub.deliveryFiltered && owner.deniesDelivery?.(subject, sub.queue)) {
          continue;
        }
        if (trace !== undefined) trace.reached(sub);
        delivered++;
      }

      const queues = result.queues;
      for (let g = 0; g < queues.length; g++) {
        const members = queues[g];
        const n = members.length;
        if (n === 0) continue;
        if (fromLink && !anyQueue && !groupChosen(fromKind, filter, members[0].queue)) continue;
        // Uniform random start over members listed by weight, then the first that can take it: every member
        // of the cluster equally likely. Leaf members are a last resort; a message from a link prefers local
        // members, and never goes back out over a route or gateway.
        const first = n === 1 ? 0 : Math.floor(Math.random() * n);
        let fallback: Subscription | undefined;
        let remoteCluster: Subscription | undefined;
        let done = false;
        for (let j = 0; j < n; j++) {
          const sub = members[(first + j) % n];
          if (sub.closed || sub.owner === skipOwn) continue;
          const owner = sub.owner;
          if (sub.remote) {
            const link = owner as LinkOwner;
            const k = link.kind;
            if (link === origin || !mayForward(fromKind, origin, link, subject, leafOrigin)) continue;
            if (k === "gateway") {
              // Geo-affinity: another cluster only when this one has no member; the nearest such cluster.
              if (remoteCluster === undefined || link.rttMs < (remoteCluster.owner as LinkOwner).rttMs)
                remoteCluster = sub;
              continue;
            }
            if (k === "leaf" || fromLink) {
              fallback ??= sub;
              continue;
            }
            if (trace !== undefined) trace.reached(sub);
            targets.add(link, sub.queue);
            done = true;
            break;
          }
          if (deliverNow) {
            if (!deliverTo(account, sub, subject, reply, buf, start, hdrLen, end, shown, origin)) continue;
          } else if (sub.deliveryFiltered && owner.deniesDelivery?.(subject, sub.queue)) {
            continue;
          }
          if (trace !== undefined) trace.reached(sub);
          delivered++;
          done = true;
          break;
        }
        if (!done) {
          const last = fallback ?? remoteCluster;
          if (last !== undefined) {
            if (trace !== undefined) trace.reached(last);
            targets.add(last.owner as LinkOwner, last.queue);
          }
        }
      }

      const nt = targets.n;
      if (nt > 0) {
        if (deliverNow) {
          const links = targets.links;
          const chosen = targets.queues;
          for (let t = 0; t < nt; t++)
            links[t].forward(account, subject, reply, buf, start, hdrLen, end, chosen[t], shown, leafOrigin);
        }
        delivered += nt;
        targets.clear();
      }
    } finally {
      this.depth--;
    }
    if (deliverNow) this.deliveries += delivered;
    return delivered;
  }
}

/** Whether a message that arrived from `fromKind` may leave over `link`. */
function mayForward(
  fromKind: ReceiverKind,
  origin: SubscriptionOwner | undefined,
  link: LinkOwner,
  subject: string,
  leafOrigin: string | undefined,
): boolean {
  const to = link.kind;
  switch (fromKind) {
    case "route":
      if (to === "route") return isGatewayReply(subject);
      if (to === "gateway") return false;
      // Not into the leaf cluster the message entered by: a server of that cluster has it already.
      return !link.spoke && (leafOrigin === undefined || link.leafCluster !== leafOrigin);
    case "gateway":
      return to !== "gateway";
    case "leaf":
      // What our hub sends us (we are its spoke) stays on this server and its other leaf nodes.
      if ((origin as LinkOwner).spoke) return to === "leaf";
      // Not back into the leaf cluster it came from (its servers are linked by their own routes).
      if (to === "leaf" && link.leafCluster !== undefined)
        return link.leafCluster !== (origin as LinkOwner).leafCluster;
      return true;
    default:
      return true;
  }
}

/**
 * A message from a link carries the queue groups chosen for this server; only those may take it. One
 * without a list reaches no queue group, from a leaf too: it crossed for plain interest, and the group was
 * served where it was published (or will be, in the cluster the gateway chose for it). Server-local groups
 * (`_sys_`, never announced, so never chosen) take what a leaf brings, as when a JetStream domain's API
 * subjects are mapped there.
 */
function groupChosen(
  fromKind: ReceiverKind,
  filter: readonly string[] | undefined,
  queue: string | undefined,
): boolean {
  if (filter === undefined) return fromKind === "leaf" && queue === RESERVED_QUEUE;
  for (let i = 0; i < filter.length; i++) if (filter[i] === queue) return true;
  return false;
}

/** `_GR_.` replies find their way back to the server that made the request, even route to route. */
function isGatewayReply(subject: string): boolean {
  return subject.charCodeAt(0) === 0x5f && subject.startsWith("_GR_.");
}

function deliverTo(
  account: Account,
  sub: Subscription,
  subject: string,
  reply: Token | undefined,
  buf: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
  shown: string | undefined,
  origin: SubscriptionOwner | undefined,
): boolean {
  const owner = sub.owner;
  if (sub.deliveryFiltered && owner.deniesDelivery?.(subject, sub.queue)) return false;
  sub.delivered++;
  if (sub.max > 0 && sub.delivered >= sub.max) {
    sub.closed = true;
    account.removeSubscription(sub);
    owner.subscriptionEnded(sub);
  }
  const routed = shown === undefined ? undefined : subject;
  owner.deliver(sub, shown ?? subject, reply, buf, start, hdrLen, end, origin, routed);
  return true;
}

/**
 * JetStream ack subjects carry the delivery's sequence numbers, so each is published once (by the client
 * acknowledging): caching its match would only cost an insert and push a reusable entry out.
 */
function isAckSubject(subject: string): boolean {
  return subject.charCodeAt(0) === 0x24 && subject.startsWith("$JS.ACK.");
}
