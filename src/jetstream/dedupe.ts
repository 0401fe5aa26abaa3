// The duplicate window: Nats-Msg-Id -> sequence for ids seen within `duplicate_window`. Entries are kept in
// arrival order so expiry only ever looks at the front.

interface Entry {
  id: string;
  seq: number;
  timeMs: number;
}

export class DedupeWindow {
  private readonly ids = new Map<string, Entry>();
  private queue: Entry[] = [];
  private head = 0;

  constructor(private windowMs: number) {}

  setWindow(ms: number): void {
    this.windowMs = ms;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Sequence of the message stored with this id inside the window, if any. */
  find(id: string, nowMs: number): number | undefined {
    this.prune(nowMs);
    return this.ids.get(id)?.seq;
  }

  add(id: string, seq: number, timeMs: number): void {
    if (this.windowMs <= 0) return;
    const e = { id, seq, timeMs };
    this.ids.set(id, e);
    this.queue.push(e);
  }

  prune(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    while (this.head < this.queue.length && this.queue[this.head].timeMs <= cutoff) {
      const e = this.queue[this.head++];
      if (this.ids.get(e.id) === e) this.ids.delete(e.id);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.ids.clear();
    this.queue = [];
    this.head = 0;
  }
}
