// Replies (PubAcks) that may only go out once what they acknowledge is durable, in the order they were
// queued. The store's flush promise changes once per group commit, so replies are grouped by the flush
// they wait for: one promise reaction per commit instead of one per message, and no closure per ack.

/** What a reply says: a sequence to acknowledge (negative: a duplicate), or a builder for anything else. */
export type ReplyBody = number | (() => string);

/** Sends one reply; `err` is set when the write it waited for failed. */
export type ReplySender = (reply: string, body: ReplyBody, err: unknown) => void;

interface Epoch {
  /** Absolute queue position of its first reply. */
  start: number;
  settled: boolean;
  err: unknown;
}

export class DurableReplies {
  private replies: string[] = [];
  private bodies: ReplyBody[] = [];
  /** Index in the arrays of the oldest queued reply. */
  private head = 0;
  /** Absolute queue position of replies[0]. */
  private offset = 0;
  /** Oldest first; the last one is what new replies wait for. Settle in order (commits run in order). */
  private epochs: Epoch[] = [{ start: 0, settled: true, err: undefined }];
  private last: Promise<unknown> | undefined;
  private drainScheduled = false;

  constructor(private readonly send: ReplySender) {}

  /** Replies queued from now on wait for `p` (a flush covering every write made so far). */
  track(p: Promise<unknown>): void {
    if (p === this.last) return;
    this.last = p;
    const epoch: Epoch = { start: this.offset + this.replies.length, settled: false, err: undefined };
    this.epochs.push(epoch);
    p.then(
      () => this.settle(epoch, undefined),
      (err: unknown) => this.settle(epoch, err ?? new Error("write failed")),
    );
  }

  /** Queue a reply behind everything stored so far. */
  push(reply: string, body: ReplyBody): void {
    this.replies.push(reply);
    this.bodies.push(body);
    if ((this.epochs.at(-1) as Epoch).settled) this.scheduleDrain();
  }

  /** Drop every queued reply (the stream is going away). */
  clear(): void {
    this.offset += this.replies.length;
    this.replies = [];
    this.bodies = [];
    this.head = 0;
  }

  private settle(epoch: Epoch, err: unknown): void {
    epoch.settled = true;
    epoch.err = err;
    this.drain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    queueMicrotask(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Send every queued reply whose epoch has settled, oldest first. */
  private drain(): void {
    const epochs = this.epochs;
    while (epochs[0].settled) {
      const e = epochs[0];
      const tail = this.offset + this.replies.length;
      const end = epochs.length > 1 ? Math.min(epochs[1].start, tail) : tail;
      while (this.offset + this.head < end) {
        const i = this.head++;
        const reply = this.replies[i];
        const body = this.bodies[i];
        this.send(reply, body, e.err);
      }
      this.compact();
      if (epochs.length === 1) return;
      epochs.shift();
    }
  }

  private compact(): void {
    const h = this.head;
    if (h === 0) return;
    if (h === this.replies.length) {
      this.offset += h;
      this.replies = [];
      this.bodies = [];
      this.head = 0;
    } else if (h >= 1024 && h * 2 >= this.replies.length) {
      this.offset += h;
      this.replies = this.replies.slice(h);
      this.bodies = this.bodies.slice(h);
      this.head = 0;
    }
  }
}
