// Group commit: mutations made during one event-loop turn share a single commit (one write and one
// fdatasync per file), and everyone waiting on that turn is answered when it is done. Commits run one at
// a time; work queued meanwhile goes into the next one.

export interface Committer {
  /** Something is queued. */
  hasWork(): boolean;
  /** Make everything queued durable (throw after undoing it); returns follow-up work, run unawaited. */
  commit(): Promise<() => Promise<void>>;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A flush nobody awaits must not become an unhandled rejection; awaiting callers still see it.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class GroupCommit {
  /** Settles when the next commit to start is done. */
  private next: Deferred | undefined;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly committer: Committer,
    /** After a failure, wait this long before retrying leftovers nobody is waiting for. */
    private readonly retryMs: number,
  ) {}

  /** Note that work was queued: a commit runs once this turn's callbacks are done. */
  schedule(): void {
    if (this.scheduled || this.running !== undefined || this.stopped) return;
    this.scheduled = true;
    // setImmediate runs after the current turn's I/O callbacks, so all they queued shares one commit.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.loop().finally(() => {
        this.running = undefined;
        // Work queued by callbacks that ran between the loop's last check and now. After a failure,
        // only a waiting flush retries at once; the rest waits for the retry timer.
        if (this.next !== undefined || (this.committer.hasWork() && this.retryTimer === undefined)) {
          this.schedule();
        }
      });
    });
  }

  /** Resolves once everything queued before the call is durable. */
  flush(): Promise<void> {
    if (this.running === undefined && !this.committer.hasWork()) return Promise.resolve();
    this.next ??= deferred();
    this.schedule();
    return this.next.promise;
  }

  /** Fail the waiters of the next commit (their work was dropped by a rollback). */
  failNext(err: unknown): void {
    this.next?.reject(err);
    this.next = undefined;
  }

  /** Let the current commit finish, then run no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.next !== undefined || this.committer.hasWork()) {
      const batch = this.next;
      this.next = undefined;
      let followUp: () => Promise<void>;
      try {
        followUp = await this.committer.commit();
      } catch (err) {
        batch?.reject(err);
        // Don't spin on a broken disk.
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          if (this.committer.hasWork()) this.schedule();
        }, this.retryMs).unref();
        return;
      }
      // Acknowledge first: follow-ups (erasing, rewriting blocks) must not delay appends.
      batch?.resolve();
      await followUp();
    }
  }
}
