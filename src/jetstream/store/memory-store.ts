// The memory store: messages live in the seq index itself. Nothing to persist, so flush() is immediate.

import { BaseStore, type NewMessage } from "./base-store.js";
import { Message } from "./message.js";
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
    return new Message(
      m.seq,
      m.subject,
      m.ms,
      m.subNs,
      bytes,
      0,
      hlen,
      bytes.length,
      m.ttlMs !== 0 ? m.ttlMs : undefined,
    );
  }

  protected persistRemove(): void {}

  protected persistReset(): void {}

  protected persistTruncate(): void {}

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
