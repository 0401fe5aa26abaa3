// Raft traffic between the servers of a cluster: Lattice's own subjects in the system account, carried by
// the routes like any other interest. Each server subscribes once to `$LRAFT.<its id>.*.*`; a message for
// group G from server F to server T goes to `$LRAFT.T.G.F`, so the receiver knows the group and the sender
// from the subject alone and the payload is the Raft message's bytes, untouched. nats-server's `$NRG.>`
// is not used: its Raft is not interoperable, and a mixed cluster must not mistake one for the other.
//
// Delivery is best effort, as Raft expects of its network: a message to a server whose subscription has
// not reached this one yet, or that is down, is dropped and the protocol retries.

import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";

export const RAFT_SUBJECT_PREFIX = "$LRAFT";

/** What a group does with a message from a peer (the bytes are only valid during the call). */
export type RaftReceiver = (from: string, data: Uint8Array) => void;

/** One Raft group's way to its peers. */
export interface RaftChannel {
  readonly group: string;
  /** Send to one peer (by server id); false when nobody in the cluster listens for it right now. */
  send(to: string, data: Uint8Array): boolean;
  /** Stop receiving for this group. */
  leave(): void;
}

export interface RaftTransportStats {
  sent: number;
  /** Sends nobody received (the peer is down or its subscription has not arrived yet). */
  unrouted: number;
  received: number;
  /** Arrivals for a group this server does not run, or with a malformed subject. */
  dropped: number;
}

/** A subject token: no dots, wildcards or whitespace (server ids and group names must be one). */
function isToken(s: string): boolean {
  return s.length > 0 && !/[.*>\s]/.test(s);
}

export class RaftTransport {
  readonly stats: RaftTransportStats = { sent: 0, unrouted: 0, received: 0, dropped: 0 };
  private readonly groups = new Map<string, RaftReceiver>();
  private sub: Subscription | undefined;

  /** `client` must be in the system account; `self` is this server's id. */
  constructor(
    private readonly client: InternalClient,
    readonly self: string,
  ) {
    if (!isToken(self)) throw new Error(`raft transport: server id "${self}" is not a subject token`);
  }

  start(): void {
    if (this.sub !== undefined) return;
    this.sub = this.client.subscribe(`${RAFT_SUBJECT_PREFIX}.${this.self}.*.*`, (m) => this.arrive(m));
  }

  stop(): void {
    if (this.sub !== undefined) this.client.unsubscribe(this.sub);
    this.sub = undefined;
    this.groups.clear();
  }

  /** Run `group` here: messages for it reach `receive`. A group joins once. */
  join(group: string, receive: RaftReceiver): RaftChannel {
    if (!isToken(group)) throw new Error(`raft transport: group name "${group}" is not a subject token`);
    if (this.groups.has(group)) throw new Error(`raft transport: group "${group}" already joined`);
    this.groups.set(group, receive);
    const from = this.self;
    return {
      group,
      send: (to, data) => {
        this.stats.sent++;
        const n = this.client.publish(`${RAFT_SUBJECT_PREFIX}.${to}.${group}.${from}`, undefined, data);
        if (n === 0) this.stats.unrouted++;
        return n > 0;
      },
      leave: () => {
        if (this.groups.get(group) === receive) this.groups.delete(group);
      },
    };
  }

  private arrive(m: InternalMessage): void {
    // `$LRAFT.<self>.<group>.<from>`
    const s = m.subject;
    const groupAt = RAFT_SUBJECT_PREFIX.length + this.self.length + 2;
    const dot = s.indexOf(".", groupAt);
    if (dot < 0) {
      this.stats.dropped++;
      return;
    }
    const receive = this.groups.get(s.slice(groupAt, dot));
    if (receive === undefined) {
      this.stats.dropped++;
      return;
    }
    this.stats.received++;
    receive(s.slice(dot + 1), m.data);
  }
}
