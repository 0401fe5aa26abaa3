// Per-connection `allow_responses` tracking: a client that received a message with reply subject R may
// publish to R, at most `max` times and within `expiresMs` of receiving it. One instance per connection.
import type { ResponseLimits } from "./types.js";

/** nats-server defaults for `allow_responses: true`. */
export const DEFAULT_RESPONSE_LIMITS: Readonly<ResponseLimits> = Object.freeze({
  max: 1,
  expiresMs: 120_000,
});

// Prune at least this often (ms) or after this many grants, like nats-server, so the map stays small.
const PRUNE_INTERVAL_MS = 1000;
const PRUNE_EVERY_GRANTS = 4096;
// Hard cap for limits with neither max nor expiry, where pruning can never drop anything.
const MAX_ENTRIES = 65_536;

interface Grant {
  at: number;
  used: number;
}

export class ResponsePermissions {
  readonly max: number;
  readonly expiresMs: number;
  private readonly grants = new Map<string, Grant>();
  private grantsSincePrune = 0;
  private lastPrune = 0;

  constructor(limits: ResponseLimits) {
    this.max = Math.max(limits.max, 0);
    this.expiresMs = Math.max(limits.expiresMs, 0);
  }

  /** Number of reply subjects currently granted. */
  get size(): number {
    return this.grants.size;
  }

  /** Called when a message carrying `reply` is delivered to this connection. Re-delivery resets the grant. */
  grant(reply: string, now: number): void {
    // Delete first so the re-granted entry moves to the end of the insertion order (oldest-first eviction).
    this.grants.delete(reply);
    this.grants.set(reply, { at: now, used: 0 });
    if (++this.grantsSincePrune > PRUNE_EVERY_GRANTS || now - this.lastPrune > PRUNE_INTERVAL_MS)
      this.prune(now);
    while (this.grants.size > MAX_ENTRIES) {
      const oldest = this.grants.keys().next().value as string;
      this.grants.delete(oldest);
    }
  }

  /** Consumes one response to `subject` if granted; false when never granted, used up or expired. */
  tryUse(subject: string, now: number): boolean {
    const g = this.grants.get(subject);
    if (g === undefined) return false;
    if (this.expired(g, now)) {
      this.grants.delete(subject);
      return false;
    }
    g.used++;
    if (this.max > 0 && g.used >= this.max) this.grants.delete(subject);
    return true;
  }

  /** Drops expired grants. */
  prune(now: number): void {
    this.grantsSincePrune = 0;
    this.lastPrune = now;
    if (this.expiresMs === 0) return;
    for (const [reply, g] of this.grants) if (this.expired(g, now)) this.grants.delete(reply);
  }

  private expired(g: Grant, now: number): boolean {
    // Strictly greater, as in nats-server: a response exactly at the deadline is still allowed.
    return this.expiresMs > 0 && now - g.at > this.expiresMs;
  }
}
