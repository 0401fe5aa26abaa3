// Time-based removal for one stream: a single timer set to the store's next expiry (max age or per-message
// TTL), and subject delete markers (2.11): when expiry empties a subject and the stream has
// `subject_delete_marker_ttl`, a marker message (`Nats-Marker-Reason: MaxAge`, its own TTL) takes its place.
// A message that was itself a marker (a marker reason, or a KV purge) leaves nothing behind when it expires.

import type { Logger } from "../logger.js";
import { appendHeaders, Hdr, isSubjectDeleteMarker } from "./headers.js";
import { ttlHeaderValue } from "./msg-ttl.js";
import type { MessageStore, RemovedMessage } from "./store/index.js";

const MAX_TIMER_MS = 3_600_000;
const NS_PER_MS = 1_000_000;

export interface ExpiryHost {
  readonly name: string;
  readonly store: MessageStore;
  readonly logger: Logger;
  /** Marker TTL in nanoseconds; 0 = no markers. */
  markerTtlNs(): number;
  /** Store a marker message (the host's normal append path). */
  appendMarker(subject: string, hdrs: Uint8Array, ttlMs: number): void;
  /** Messages were removed: the host tracks durability and tells its observers. */
  removed(): void;
}

export class Expiry {
  private timer: NodeJS.Timeout | undefined;
  private at = 0;
  private stopped = false;

  constructor(private readonly host: ExpiryHost) {}

  /** (Re)arm the timer for the store's next expiry; `force` re-reads even when one is already set earlier. */
  arm(force = false): void {
    if (this.stopped) return;
    const at = this.host.store.nextExpiry();
    if (at === undefined) {
      this.clearTimer();
      return;
    }
    if (!force && this.timer !== undefined && this.at <= at) return;
    this.clearTimer();
    this.at = at;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped) return;
    let removed: RemovedMessage[];
    try {
      const markers = this.host.markerTtlNs() > 0;
      removed = this.host.store.expireDue(Date.now(), markers ? isSubjectDeleteMarker : undefined);
    } catch (err) {
      this.host.logger.error(
        `JetStream stream '${this.host.name}': expiry failed: ${(err as Error).message}`,
      );
      return;
    }
    if (removed.length > 0) {
      this.host.removed();
      this.placeMarkers(removed);
    }
    this.arm(true);
  }

  private placeMarkers(removed: RemovedMessage[]): void {
    const ttl = this.host.markerTtlNs();
    if (ttl <= 0) return;
    const subjects = new Set<string>();
    for (const r of removed) if (r.marker !== true) subjects.add(r.subject);
    for (const subject of subjects) {
      if (this.host.store.getLastBySubject(subject) !== undefined) continue;
      const hdrs = appendHeaders(undefined, [
        [Hdr.MarkerReason, "MaxAge"],
        [Hdr.TTL, ttlHeaderValue(ttl)],
      ]);
      try {
        this.host.appendMarker(subject, hdrs, ttl / NS_PER_MS);
      } catch (err) {
        this.host.logger.warn(
          `JetStream stream '${this.host.name}': delete marker not stored: ${(err as Error).message}`,
        );
      }
    }
  }
}
