// The memory store: messages live in the seq index itself. Nothing to persist, so flush() is immediate.

import { BaseStore, type NewMessage } from "./base-store.js";
import { joinNs } from "./clock.js";
import type { StoredMessage, StoreLimits } from "./types.js";

export interface MemoryStoreOptions {
  /** Sequence of the first message (stream `first_seq`). */
  firstSeq?: number;
  limits?: StoreLimits;
}

export class MemoryStore extends BaseStore<StoredMessage> {
  readonly kind = "memory" as const;

  constructor(opts: MemoryStoreOptions = {}) {
    super(opts.firstSeq);
    if (opts.limits) this.setLimits(opts.limits);
  }

  protected persistAppend(m: NewMessage): StoredMessage {
    // Copy: callers pass views into reusable receive buffers. One allocation holds headers and data.
    const hlen = m.headers?.length ?? 0;
    const bytes = new Uint8Array(hlen + m.data.length);
    if (m.headers !== undefined) bytes.set(m.headers, 0);
    bytes.set(m.data, hlen);
    const msg: StoredMessage = {
      seq: m.seq,
      subject: m.subject,
      time: m.ms,
      timeNs: joinNs(m.ms, m.subNs),
      headers: m.headers !== undefined ? bytes.subarray(0, hlen) : undefined,
      data: bytes.subarray(hlen),
      ttlMs: m.ttlMs !== 0 ? m.ttlMs : undefined,
    };
    return msg;
  }

  protected persistRemove(): void {}

  protected persistReset(): void {}

  protected load(_seq: number, ref: StoredMessage): StoredMessage {
    return ref;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  async delete(): Promise<void> {
    this.closed = true;
    this.index.clear();
    this.subjects.clear();
  }
}
