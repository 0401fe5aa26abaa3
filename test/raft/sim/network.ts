// A simulated network: messages (a share of them through the binary codec) are delayed by a random number of
// ticks (so messages overtake each other), and may be dropped or duplicated. Links can be cut one way
// (asymmetric partitions) or both ways.

import { decodeMessage, encodeMessage, type Message, type NodeId } from "../../../src/raft/index.js";
import type { Prng } from "./prng.js";

interface InFlight {
  readonly deliverAt: number;
  readonly to: NodeId;
  /** Encoded, or the message itself (the core never mutates a message). */
  readonly payload: Uint8Array | Message;
}

export interface NetworkConditions {
  dropRate: number;
  duplicateRate: number;
  maxDelay: number;
}

export const CALM: NetworkConditions = { dropRate: 0, duplicateRate: 0, maxDelay: 2 };

export class SimNetwork {
  conditions: NetworkConditions = { ...CALM };
  private inFlight: InFlight[] = [];
  /** Cut links, as "from>to". */
  private cut = new Set<string>();
  sent = 0;
  delivered = 0;
  readonly sentByType = new Map<Message["type"], number>();
  /** Share of messages sent through encodeMessage/decodeMessage (all would cost most of the run time). */
  codecRate = 0.2;

  constructor(private readonly rng: Prng) {}

  send(m: Message, now: number): void {
    this.sent++;
    this.sentByType.set(m.type, (this.sentByType.get(m.type) ?? 0) + 1);
    if (this.cut.has(`${m.from}>${m.to}`) || this.rng.chance(this.conditions.dropRate)) return;
    const payload = this.rng.chance(this.codecRate) ? encodeMessage(m) : m;
    const copies = this.rng.chance(this.conditions.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({ deliverAt: now + this.rng.int(this.conditions.maxDelay + 1), to: m.to, payload });
    }
  }

  /** Messages due by `now`, in random order, removed from the network. */
  takeDue(now: number): Message[] {
    const due: Message[] = [];
    const later: InFlight[] = [];
    for (const f of this.inFlight) {
      if (f.deliverAt <= now)
        due.push(f.payload instanceof Uint8Array ? decodeMessage(f.payload) : f.payload);
      else later.push(f);
    }
    this.inFlight = later;
    this.delivered += due.length;
    return this.rng.shuffle(due);
  }

  /** Put a message back for the next tick (its receiver is busy syncing). */
  requeue(m: Message, now: number): void {
    this.inFlight.push({ deliverAt: now + 1, to: m.to, payload: m });
  }

  heal(): void {
    this.cut.clear();
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /** Nodes in different groups cannot talk; `bridges` talk to everyone. */
  partition(groups: readonly (readonly NodeId[])[], bridges: readonly NodeId[] = []): void {
    this.cut.clear();
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a === b) continue;
        for (const x of groups[a]!) {
          for (const y of groups[b]!) {
            if (!bridges.includes(x) && !bridges.includes(y)) this.cutLink(x, y);
          }
        }
      }
    }
  }

  describeCuts(): string {
    return [...this.cut].sort().join(" ");
  }
}
