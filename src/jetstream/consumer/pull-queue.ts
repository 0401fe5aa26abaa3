// Pull requests (`CONSUMER.MSG.NEXT`): decoding the request body and the queue of waiting requests. Requests
// take turns: a request that still wants more after a delivery moves to the back of the queue (with the
// "prioritized" policy, to the back of the requests of its own priority).

import { NS_PER_MS } from "./config.js";

export interface PullRequest {
  batch: number;
  /** Absolute expiry, ms since the epoch; 0 = none. */
  expires: number;
  /** As requested, ns (for the limit check). */
  expiresNs: number;
  maxBytes: number;
  noWait: boolean;
  /** Idle heartbeat interval in ms; 0 = none. */
  heartbeatMs: number;
  /** The priority-group fields of a JSON request (undefined for an empty or numeric body). */
  priority: PriorityFields | undefined;
}

/** What a pull request says about its priority group (ADR-42). */
export interface PriorityFields {
  group: string;
  /** Overflow: serve only when the consumer has at least this many pending messages (0 = no minimum). */
  minPending: number;
  /** Overflow: serve only when at least this many messages await their ack (0 = no minimum). */
  minAckPending: number;
  /** Pinned client: the pin id this client was given. */
  id: string;
  /** Prioritized: 0 (first served) to 9. */
  priority: number;
}

export class PullRequestError extends Error {}

const td = new TextDecoder();

function goInt(v: unknown, field: string, type = "int"): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    const what = typeof v === "number" ? "number" : typeof v === "boolean" ? "bool" : typeof v;
    throw new PullRequestError(
      `json: cannot unmarshal ${what} into Go struct field JSApiConsumerGetNextRequest.${field} of type ${type}`,
    );
  }
  return v;
}

function goString(v: unknown, field: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    const what = typeof v === "boolean" ? "bool" : typeof v;
    throw new PullRequestError(
      `json: cannot unmarshal ${what} into Go struct field JSApiConsumerGetNextRequest.${field} of type string`,
    );
  }
  return v;
}

/** Decode a MSG.NEXT body: empty = one message, a bare integer = batch, else the JSON request. */
export function parsePullRequest(data: Uint8Array, now = Date.now()): PullRequest {
  const text = td.decode(data).trim();
  const req: PullRequest = {
    batch: 1,
    expires: 0,
    expiresNs: 0,
    maxBytes: 0,
    noWait: false,
    heartbeatMs: 0,
    priority: undefined,
  };
  if (text === "") return req;
  if (text.startsWith("{")) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new PullRequestError((err as Error).message.replace(/^Unexpected/, "invalid character"));
    }
    if (o === null || typeof o !== "object" || Array.isArray(o)) {
      throw new PullRequestError("json: cannot unmarshal into Go value of type JSApiConsumerGetNextRequest");
    }
    const batch = goInt(o.batch, "batch");
    const expires = goInt(o.expires, "expires");
    const maxBytes = goInt(o.max_bytes, "max_bytes");
    const hb = goInt(o.idle_heartbeat, "idle_heartbeat");
    const nw = o.no_wait;
    if (nw !== undefined && nw !== null && typeof nw !== "boolean") {
      throw new PullRequestError(
        "json: cannot unmarshal into Go struct field JSApiConsumerGetNextRequest.no_wait of type bool",
      );
    }
    if (hb > 0 && hb * 2 > expires) throw new PullRequestError("heartbeat value too large");
    req.batch = batch;
    req.maxBytes = maxBytes;
    req.noWait = nw === true;
    req.heartbeatMs = hb > 0 ? hb / NS_PER_MS : 0;
    req.expiresNs = expires;
    req.expires = expires > 0 ? now + expires / NS_PER_MS : 0;
    req.priority = {
      group: goString(o.group, "group"),
      minPending: goInt(o.min_pending, "min_pending", "int64"),
      minAckPending: goInt(o.min_ack_pending, "min_ack_pending", "int64"),
      id: goString(o.id, "id"),
      priority: goInt(o.priority, "priority"),
    };
    return req;
  }
  if (/^[+-]?\d+$/.test(text)) req.batch = Number(text);
  return req;
}

/** A request waiting for messages. */
export interface WaitingRequest {
  reply: string;
  /** Messages still wanted. */
  n: number;
  /** Messages delivered so far. */
  d: number;
  /** Bytes still allowed (0 = no limit). */
  b: number;
  noWait: boolean;
  expires: number;
  heartbeatMs: number;
  /** Next heartbeat due (ms since the epoch), 0 = none. */
  hbAt: number;
  received: number;
  priority: PriorityFields | undefined;
}

/** A request's place under the "prioritized" policy: its priority, or last when it named none. */
function rank(wr: WaitingRequest): number {
  return wr.priority?.priority ?? Number.MAX_SAFE_INTEGER;
}

export class WaitQueue {
  private reqs: WaitingRequest[] = [];

  constructor(public max: number) {}

  get length(): number {
    return this.reqs.length;
  }

  isFull(): boolean {
    return this.max > 0 && this.reqs.length >= this.max;
  }

  add(wr: WaitingRequest): boolean {
    if (this.isFull()) return false;
    this.reqs.push(wr);
    return true;
  }

  /** Add behind every request of the same or a better (lower) priority. */
  addPrioritized(wr: WaitingRequest): boolean {
    if (this.isFull()) return false;
    this.insertByRank(wr);
    return true;
  }

  private insertByRank(wr: WaitingRequest): void {
    const r = rank(wr);
    let i = this.reqs.length;
    while (i > 0 && rank(this.reqs[i - 1]) > r) i--;
    this.reqs.splice(i, 0, wr);
  }

  /** Move the head request to the back without serving it (it cannot take a message now). */
  cycle(): void {
    if (this.reqs.length > 1) this.reqs.push(this.reqs.shift()!);
  }

  peek(): WaitingRequest | undefined {
    return this.reqs[0];
  }

  /**
   * Take one delivery from the head request; it moves to the back while it still wants more (`byRank`:
   * to the back of its priority).
   */
  pop(byRank = false): WaitingRequest | undefined {
    const wr = this.reqs[0];
    if (wr === undefined) return undefined;
    wr.d++;
    wr.n--;
    if (wr.n > 0 && this.reqs.length > 1) {
      this.reqs.shift();
      if (byRank) this.insertByRank(wr);
      else this.reqs.push(wr);
    } else if (wr.n <= 0) {
      this.reqs.shift();
    }
    return wr;
  }

  removeHead(): void {
    this.reqs.shift();
  }

  remove(wr: WaitingRequest): void {
    const i = this.reqs.indexOf(wr);
    if (i >= 0) this.reqs.splice(i, 1);
  }

  /** Give back one delivery that could not be made. */
  credit(reply: string): void {
    for (const wr of this.reqs) {
      if (wr.reply === reply) {
        wr.n++;
        wr.d--;
        return;
      }
    }
  }

  all(): readonly WaitingRequest[] {
    return this.reqs;
  }

  /** Keep only the requests `keep` accepts. */
  filter(keep: (wr: WaitingRequest) => boolean): void {
    this.reqs = this.reqs.filter(keep);
  }

  clear(): WaitingRequest[] {
    const r = this.reqs;
    this.reqs = [];
    return r;
  }
}
