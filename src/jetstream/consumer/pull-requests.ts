// Pull requests (CONSUMER.MSG.NEXT): validating and queueing them, choosing the request the next message
// goes to, expiring them (408), ending them (409 / 404 / batch completed), and their heartbeats. With a
// priority policy (ADR-42) the choice also follows the group rules: only the pinned client is served
// ("pinned_client"), a request waits until its minimum backlog is reached ("overflow"), or lower
// priorities go first ("prioritized").

import { statusHeaders } from "../headers.js";
import { AckTracking } from "./ack-tracking.js";
import { DEFAULT_PRIORITY_TIMEOUT_NS, goDuration, NS_PER_MS } from "./config.js";
import { EMPTY } from "./consumer-core.js";
import {
  type PriorityFields,
  PullRequestError,
  parsePullRequest,
  type WaitingRequest,
} from "./pull-queue.js";

export abstract class PullRequests extends AckTracking {
  protected status(reply: string, code: number, desc: string, msgs?: number, bytes?: number): void {
    const entries: [string, string][] =
      msgs === undefined
        ? []
        : [
            ["Nats-Pending-Messages", String(msgs)],
            ["Nats-Pending-Bytes", String(bytes ?? 0)],
          ];
    this.host.client.publish(reply, undefined, EMPTY, statusHeaders(code, desc, entries));
  }

  /** CONSUMER.MSG.NEXT (or +NXT): queue the request, or answer with the status that ends it. */
  override pullRequest(reply: string, data: Uint8Array): void {
    if (this.closed) return;
    const wq = this.waiting;
    if (wq === undefined) {
      this.status(reply, 409, "Consumer is push based");
      return;
    }
    let req: ReturnType<typeof parsePullRequest>;
    try {
      req = parsePullRequest(data);
    } catch (err) {
      if (!(err instanceof PullRequestError)) throw err;
      this.status(reply, 400, `Bad Request - ${err.message}`);
      return;
    }
    const c = this.config;
    if ((c.max_batch ?? 0) > 0 && req.batch > c.max_batch!) {
      this.status(reply, 409, `Exceeded MaxRequestBatch of ${c.max_batch}`);
      return;
    }
    if (req.expiresNs > 0 && (c.max_expires ?? 0) > 0 && req.expiresNs > c.max_expires!) {
      this.status(reply, 409, `Exceeded MaxRequestExpires of ${goDuration(c.max_expires!)}`);
      return;
    }
    if (req.maxBytes > 0 && (c.max_bytes ?? 0) > 0 && req.maxBytes > c.max_bytes!) {
      this.status(reply, 409, `Exceeded MaxRequestMaxBytes of ${c.max_bytes}`);
      return;
    }
    const refusal = this.priorityRefusal(req.priority);
    if (refusal !== undefined) {
      this.status(reply, refusal.code, refusal.desc);
      return;
    }
    const now = Date.now();
    this.lastActivity = now;
    if (wq.isFull()) this.processWaiting(false);
    if (req.noWait) {
      const available = Math.max(0, this.npc) + this.rdq.length;
      if (available === 0 && req.expires === 0) {
        this.status(reply, 404, "No Messages");
        return;
      }
      if (available > 0) {
        const brp = this.processWaiting(false);
        if (available < brp) {
          this.status(reply, 408, "Requests Pending");
          return;
        }
      }
    }
    const wr: WaitingRequest = {
      reply,
      n: req.batch,
      d: 0,
      b: req.maxBytes,
      noWait: req.noWait,
      expires: req.expires,
      heartbeatMs: req.heartbeatMs,
      hbAt: req.heartbeatMs > 0 ? now + req.heartbeatMs : 0,
      received: now,
      priority: req.priority,
    };
    const added = c.priority_policy === "prioritized" ? wq.addPrioritized(wr) : wq.add(wr);
    if (!added) {
      this.status(reply, 409, "Exceeded MaxWaiting");
      return;
    }
    this.armWaitTimer();
    this.kick();
  }

  /** Why a pull request's priority fields are refused (status code and description), or undefined. */
  private priorityRefusal(pf: PriorityFields | undefined): { code: number; desc: string } | undefined {
    if (pf === undefined) return undefined;
    const policy = this.config.priority_policy;
    if ((pf.minPending !== 0 || pf.minAckPending !== 0) && policy !== "overflow") {
      return { code: 400, desc: "Bad Request - Not a Overflow Priority consumer" };
    }
    if (pf.id !== "" && policy !== "pinned_client") {
      return { code: 400, desc: "Bad Request - Not a Pinned Client Priority consumer" };
    }
    if (pf.priority < 0 || pf.priority > 9) {
      return { code: 400, desc: "Bad Request - Priority must be between 0 and 9" };
    }
    if (policy === undefined) return undefined;
    if (pf.group === "") return { code: 400, desc: "Bad Request - Priority Group missing" };
    if (!(this.config.priority_groups ?? []).includes(pf.group)) {
      return { code: 400, desc: "Bad Request - Invalid Priority Group" };
    }
    const pin = this.pin;
    if (pin.id !== "") {
      if (pf.id === pin.id) pin.touch(this.pinTimeoutMs());
      else if (pf.id !== "") return { code: 423, desc: "Nats-Pin-Id mismatch" };
    }
    return undefined;
  }

  protected pinTimeoutMs(): number {
    return (this.config.priority_timeout ?? DEFAULT_PRIORITY_TIMEOUT_NS) / NS_PER_MS;
  }

  /** The request the next message (of `size` bytes) goes to; drops requests that can no longer take any. */
  protected nextWaiting(size: number, now: number): WaitingRequest | undefined {
    const wq = this.waiting!;
    const policy = this.config.priority_policy;
    const pin = this.pin;
    let cycled = 0;
    for (let wr = wq.peek(); wr !== undefined; wr = wq.peek()) {
      if (wr.expires !== 0 && now >= wr.expires) {
        this.status(wr.reply, 408, "Request Timeout", wr.n, wr.b);
        wq.removeHead();
        continue;
      }
      if (!this.host.hasInterest(wr.reply)) {
        wq.removeHead();
        continue;
      }
      const pf = wr.priority;
      let pinned = false;
      if (policy === "pinned_client") {
        if (pin.id === "") {
          if (pf !== undefined && pf.id !== "") {
            // A stale id (an earlier pin): that client must pull again without it to be a candidate.
            this.status(wr.reply, 423, "Nats-Wrong-Pin-Id", wr.n, wr.b);
            wq.removeHead();
            continue;
          }
          if (pf !== undefined && pf.group !== "") {
            pf.id = pin.assign(this.pinTimeoutMs());
            pinned = true;
          }
        } else if (pf === undefined || pf.id === "") {
          // A standby client: it waits while another is pinned.
          wq.cycle();
          if (++cycled >= wq.length) return undefined;
          continue;
        } else if (pf.id !== pin.id) {
          this.status(wr.reply, 423, "Nats-Wrong-Pin-Id", wr.n, wr.b);
          wq.removeHead();
          continue;
        }
      } else if (policy === "overflow" && pf !== undefined && (pf.minPending > 0 || pf.minAckPending > 0)) {
        const backlog =
          (pf.minPending > 0 && pf.minPending <= this.npc) ||
          (pf.minAckPending > 0 && pf.minAckPending <= this.state.pending.size);
        if (!backlog) {
          wq.cycle();
          if (++cycled >= wq.length) return undefined;
          continue;
        }
      }
      if (wr.b > 0) {
        if (size <= wr.b) {
          wr.b -= size;
          if (wr.b === 0) wr.n = 1;
        } else {
          this.status(wr.reply, 409, "Message Size Exceeds MaxBytes", wr.n, wr.b);
          if (pinned) pin.clear();
          wq.removeHead();
          continue;
        }
      }
      if (pinned) this.host.advisories.pinned(this.stream.name, this.name, pf!.group, pin.id);
      return wq.pop(policy === "prioritized");
    }
    return undefined;
  }

  /**
   * Expire requests (and, at the end of the stream, finish no-wait ones that got something), drop those
   * nobody listens for, send due heartbeats. Returns the messages the remaining requests still want.
   */
  protected processWaiting(eos: boolean): number {
    const wq = this.waiting;
    if (wq === undefined || wq.length === 0) {
      this.clearWaitTimer();
      return 0;
    }
    const now = Date.now();
    let brp = 0;
    wq.filter((wr) => {
      if ((eos && wr.noWait && wr.d > 0) || (wr.expires > 0 && now >= wr.expires)) {
        this.status(wr.reply, 408, "Request Timeout", wr.n, wr.b);
        return false;
      }
      if (!this.host.hasInterest(wr.reply)) return false;
      brp += wr.n;
      if (wr.hbAt > 0 && now >= wr.hbAt) {
        this.sendHeartbeat(wr.reply);
        wr.hbAt = now + wr.heartbeatMs;
      }
      return true;
    });
    this.armWaitTimer();
    return brp;
  }

  protected armWaitTimer(): void {
    const wq = this.waiting;
    if (wq === undefined || this.closed) return;
    let next = Number.MAX_SAFE_INTEGER;
    for (const wr of wq.all()) {
      if (wr.expires > 0 && wr.expires < next) next = wr.expires;
      if (wr.hbAt > 0 && wr.hbAt < next) next = wr.hbAt;
    }
    this.clearWaitTimer();
    if (next === Number.MAX_SAFE_INTEGER) return;
    this.waitTimer = setTimeout(
      () => {
        this.waitTimer = undefined;
        this.processWaiting(true);
        this.kick();
      },
      Math.max(1, next - Date.now()),
    );
  }

  protected clearWaitTimer(): void {
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  protected sendHeartbeat(subject: string): void {
    const entries: [string, string][] = [
      ["Nats-Last-Consumer", String(this.state.dseq - 1)],
      ["Nats-Last-Stream", String(this.state.sseq - 1)],
    ];
    if (this.fc !== undefined && this.fc.fcid !== "") entries.push(["Nats-Consumer-Stalled", this.fc.fcid]);
    this.host.client.publish(subject, undefined, EMPTY, statusHeaders(100, "Idle Heartbeat", entries));
  }
}
