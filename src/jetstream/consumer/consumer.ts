// One consumer: it walks its stream from a starting point chosen by the deliver policy, hands messages to
// pull requests or to its deliver subject, tracks what is awaiting an ack, redelivers after ack_wait /
// backoff up to max_deliver, and keeps its state in its store. This file is its lifecycle (start, config
// updates, pause, inactivity, stop) and its info; the layers it is built from are listed in
// consumer-core.ts. Everything runs on the event loop.

import { rfc3339 } from "../json.js";
import {
  type ConsumerConfig,
  configJson,
  DEFAULT_INACTIVE_THRESHOLD_NS,
  filtersOf,
  isDurable,
  isPush,
  NS_PER_MS,
} from "./config.js";
import { filterArg, nowNs } from "./consumer-core.js";
import { Delivery } from "./delivery.js";
import { compileFilter } from "./filter.js";
import { FC_LIMIT } from "./push-delivery.js";

export type { ConsumerHost } from "./consumer-core.js";

export class Consumer extends Delivery {
  /** Begin: interest tracking, timers, first delivery run. */
  start(): void {
    if (isPush(this.config)) {
      this.fc = this.config.flow_control ? { maxpb: FC_LIMIT / 16, pbytes: 0, fcid: "", fcsz: 0 } : undefined;
      this.active = this.host.hasInterest(this.config.deliver_subject!, this.config.deliver_group);
      if (!this.active) this.armDelete();
      this.armHeartbeat();
    } else if (this.dthresh > 0) {
      this.armDelete();
    }
    this.armPause();
    this.rearmRedeliveries();
    this.kick();
  }

  // ---- inactivity ------------------------------------------------------------------------------------

  protected override updateInactiveThreshold(): void {
    const c = this.config;
    const jitter = () => 100 + Math.floor(Math.random() * 900);
    if (!isDurable(c) && (c.inactive_threshold ?? 0) <= 0) {
      this.dthresh = DEFAULT_INACTIVE_THRESHOLD_NS / NS_PER_MS + jitter();
      c.inactive_threshold = DEFAULT_INACTIVE_THRESHOLD_NS;
    } else if ((c.inactive_threshold ?? 0) > 0) {
      this.dthresh = c.inactive_threshold! / NS_PER_MS + (this.isPull || !isPush(c) ? jitter() : 0);
    } else {
      this.dthresh = 0;
    }
  }

  protected override armDelete(delay = this.dthresh): void {
    if (this.dthresh <= 0 || this.closed) return;
    if (this.deleteTimer !== undefined && delay === this.dthresh) return;
    this.clearDelete();
    this.deleteTimer = setTimeout(() => this.deleteIfInactive(), delay);
  }

  protected override clearDelete(): void {
    if (this.deleteTimer !== undefined) clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
  }

  protected deleteIfInactive(): void {
    this.deleteTimer = undefined;
    if (this.closed) return;
    if (isPush(this.config)) {
      if (this.active) return;
    } else {
      const elapsed = Date.now() - this.lastActivity;
      const threshold = (this.config.inactive_threshold ?? 0) / NS_PER_MS;
      if (elapsed <= threshold) {
        this.armDelete(Math.max(1, this.dthresh - elapsed));
        return;
      }
      this.processWaiting(true);
      if ((this.waiting?.length ?? 0) > 0) {
        this.armDelete();
        return;
      }
    }
    this.host.expire(this);
  }

  // ---- pause --------------------------------------------------------------------------------------

  protected armPause(): void {
    if (this.pauseTimer !== undefined) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    const pu = this.config.pause_until;
    if (pu === undefined) return;
    const ms = Number((pu - nowNs()) / 1_000_000n);
    if (ms <= 0) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.kick();
    }, ms + 1);
  }

  /** CONSUMER.PAUSE: 0 / past = resume. */
  pause(untilNs: bigint): void {
    if (untilNs > nowNs()) this.config.pause_until = untilNs;
    else delete this.config.pause_until;
    this.armPause();
    this.kick();
  }

  pauseInfo(): { paused: boolean; pauseUntil: bigint; remainingNs: number } {
    const pu = this.config.pause_until ?? 0n;
    const now = nowNs();
    const paused = pu > now;
    return { paused, pauseUntil: pu, remainingNs: paused ? Number(pu - now) : 0 };
  }

  // ---- config updates --------------------------------------------------------------------------------

  /** Apply an already validated update. */
  update(next: ConsumerConfig): void {
    const old = this.config;
    const oldFilters = filtersOf(old).join("\n");
    if (isDurable(old) && next.durable_name === undefined) next.durable_name = old.durable_name;
    if (old.name !== undefined && next.name === undefined) next.name = old.name;
    this.config = next;
    this.updateInactiveThreshold();
    if (filtersOf(next).join("\n") !== oldFilters) {
      const filters = filtersOf(next);
      this.match = compileFilter(filters);
      this.filterArg = filterArg(filters);
      this.filterChanged();
    }
    this.npc = this.countPending();
    if (isPush(next) && old.deliver_subject !== next.deliver_subject) {
      for (const seq of [...this.state.pending.keys()].sort((a, b) => a - b)) this.rdqAdd(seq);
      this.active = false;
      this.interestChanged();
    }
    if (this.waiting !== undefined) this.waiting.max = next.max_waiting ?? 0;
    if (next.priority_policy !== "pinned_client") this.pin.clear();
    if (isPush(next)) {
      if (!this.active) this.armDelete();
      else this.clearDelete();
    } else if (this.dthresh > 0) {
      this.armDelete();
    } else {
      this.clearDelete();
    }
    this.armPause();
    this.rearmRedeliveries();
    this.kick();
  }

  // ---- priority groups ---------------------------------------------------------------------------------

  /** CONSUMER.UNPIN: the group's pinned client loses its pin; the next client to pull is pinned. */
  unpin(group: string): boolean {
    if (!(this.config.priority_groups ?? []).includes(group)) return false;
    this.pin.clear();
    this.host.advisories.unpinned(this.stream.name, this.name, group, "admin");
    this.kick();
    return true;
  }

  // ---- info -------------------------------------------------------------------------------------------

  numPending(): number {
    if (this.npc < 0 || this.npc > this.stream.store.state().messages) this.npc = this.countPending();
    return this.npc;
  }

  info(): Record<string, unknown> {
    const s = this.state;
    if (this.isPull) this.processWaiting(false);
    const delivered: Record<string, unknown> = {
      consumer_seq: s.dseq - 1,
      stream_seq: s.lss !== undefined ? s.lastDelivered : s.sseq - 1,
    };
    if (this.ldt > 0) delivered.last_active = rfc3339(BigInt(this.ldt) * 1_000_000n);
    const ackFloor: Record<string, unknown> = { consumer_seq: s.adflr, stream_seq: s.asflr };
    if (this.lat > 0) ackFloor.last_active = rfc3339(BigInt(this.lat) * 1_000_000n);
    const out: Record<string, unknown> = {
      stream_name: this.stream.name,
      name: this.name,
      created: rfc3339(this.created),
      config: configJson(this.config),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: s.pending.size,
      num_redelivered: s.rdc.size,
      num_waiting: this.waiting?.length ?? 0,
      num_pending: this.numPending(),
    };
    if (this.pushBound) out.push_bound = true;
    const p = this.pauseInfo();
    if (p.paused) {
      out.paused = true;
      out.pause_remaining = p.remainingNs;
    }
    const groups = this.config.priority_groups ?? [];
    if (groups.length > 0) {
      const g: Record<string, unknown> = { group: groups[0] };
      if (this.pin.id !== "") g.pinned_client_id = this.pin.id;
      g.pinned_ts = rfc3339(BigInt(this.pin.pinnedAt) * 1_000_000n);
      out.priority_groups = [g];
    }
    out.ts = rfc3339(nowNs());
    return out;
  }

  // ---- shutdown -------------------------------------------------------------------------------------

  /** Stop all activity; `notify` tells waiting pull requests the consumer is gone. */
  stop(opts: { notify: boolean; saveState: boolean }): void {
    if (this.closed) return;
    if (opts.notify && this.waiting !== undefined) {
      for (const wr of this.waiting.all()) this.status(wr.reply, 409, "Consumer Deleted");
    }
    this.closed = true;
    this.waiting?.clear();
    this.pin.clear();
    for (const t of [this.redeliverTimer, this.waitTimer, this.deleteTimer, this.pauseTimer, this.runTimer]) {
      if (t !== undefined) clearTimeout(t);
    }
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.store.close(opts.saveState);
  }

  /** Does this consumer still need `seq` (interest retention)? */
  needs(seq: number, subject: string): boolean {
    if (this.closed || !this.match(subject)) return false;
    const s = this.state;
    if (seq <= s.asflr && !this.lssSet.has(seq)) return false;
    if (this.config.ack_policy !== "explicit") return true;
    return seq >= s.sseq || s.pending.has(seq) || this.lssSet.has(seq);
  }

  matches(subject: string): boolean {
    return this.match(subject);
  }

  get filters(): string[] {
    return filtersOf(this.config);
  }
}
