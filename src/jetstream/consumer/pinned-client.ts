// The pin of a "pinned_client" priority group (ADR-42): one waiting client gets every message, under an id
// the server makes up and sends in the `Nats-Pin-Id` header; the client repeats it in its pull requests.
// A pin lapses when its client sends no pull request for `priority_timeout`, or when an operator unpins it
// (CONSUMER.UNPIN); the next client to pull without an id is pinned then.

import { eventId } from "../advisories.js";

export class PinnedClient {
  /** The current pin id; "" = nobody pinned. */
  id = "";
  /** When the current pin was given (ms since the epoch), 0 = none. */
  pinnedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `lapsed` runs when a pinned client stayed silent for the timeout. */
  constructor(private readonly lapsed: () => void) {}

  /** Pin a new client: a fresh id, and the timeout starts. */
  assign(timeoutMs: number): string {
    this.id = eventId();
    this.pinnedAt = Date.now();
    this.touch(timeoutMs);
    return this.id;
  }

  /** The pinned client pulled again: its timeout starts over. */
  touch(timeoutMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.id === "") return;
      this.clear();
      this.lapsed();
    }, timeoutMs);
    this.timer.unref?.();
  }

  clear(): void {
    this.id = "";
    this.pinnedAt = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
