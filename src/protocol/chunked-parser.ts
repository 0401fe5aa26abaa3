// What every wire parser (client, server links) does around its byte state machine: count input, hold
// chunks while paused (an asynchronous CONNECT check) or while a handler is running, resume in order, and
// stop for good on close or a handler error. Per chunk, never per message.

export abstract class ChunkedParser {
  protected paused = false;
  protected isClosed = false;
  private parsing = false;
  /** Bytes not parsed yet: what remained when pause() took effect, and chunks received while paused. */
  private pending: Buffer[] = [];
  private bytes = 0;
  protected msgs = 0;
  protected msgBytes = 0;

  /** True once close() was called or a parse error was reported (or a handler threw). */
  get closed(): boolean {
    return this.isClosed;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Raw bytes handed to parse() so far. */
  get bytesIn(): number {
    return this.bytes;
  }

  /** Messages parsed so far. */
  get msgsIn(): number {
    return this.msgs;
  }

  /** Sum of the message sizes (headers + payload) of msgsIn, like nats-server's in_bytes. */
  get msgBytesIn(): number {
    return this.msgBytes;
  }

  parse(chunk: Buffer): void {
    if (this.isClosed) return;
    this.bytes += chunk.length;
    if (this.paused || this.parsing || this.pending.length > 0) {
      // Copied because callers (e.g. a websocket unmasker) may reuse their buffer after we return.
      if (chunk.length > 0) this.pending.push(Buffer.from(chunk));
      if (!this.paused && !this.parsing) this.run(undefined);
      return;
    }
    this.run(chunk);
  }

  /**
   * Stops parsing for good without reporting anything, e.g. when a handler closes the connection (bad
   * CONNECT, auth failure): ops after the current one, even in the same chunk, are not delivered.
   */
  close(): void {
    this.shutdown();
  }

  /** Stops parsing after the current op; unparsed and later bytes are kept until resume(). */
  pause(): void {
    if (!this.isClosed) this.paused = true;
  }

  /** Parses the kept bytes synchronously (unless a handler pauses again) and returns to normal. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Called from inside a handler: the running loop sees the flag cleared and just carries on.
    if (this.parsing || this.isClosed || this.pending.length === 0) return;
    this.run(undefined);
  }

  /** Parse from `pos`; returns where parsing stopped because of pause(), or -1 when consumed or closed. */
  protected abstract parseChunk(buf: Buffer, pos: number): number;

  /** Stop for good; subclasses also let go of their carried-over buffers. */
  protected shutdown(): void {
    this.isClosed = true;
    this.paused = false;
    this.pending = [];
  }

  private run(chunk: Buffer | undefined): void {
    this.parsing = true;
    try {
      if (chunk !== undefined) {
        const stop = this.parseChunk(chunk, 0);
        if (stop >= 0 && stop < chunk.length) this.pending.unshift(Buffer.from(chunk.subarray(stop)));
      }
      while (!this.paused && !this.isClosed && this.pending.length > 0) {
        const next = this.pending.shift()!;
        const stop = this.parseChunk(next, 0);
        // `next` is already our own copy.
        if (stop >= 0 && stop < next.length) this.pending.unshift(next.subarray(stop));
      }
    } catch (err) {
      // A handler threw mid-op: the state can no longer be trusted.
      this.shutdown();
      throw err;
    } finally {
      this.parsing = false;
    }
  }
}
