// What a leader knows about one peer's copy of the log, and how hard it may push entries to it:
//  - probe: unsure where the peer's log matches ours; one append at a time, backing off on rejection;
//  - replicate: the peer is keeping up; appends stream ahead optimistically, at most `maxInflight` unanswered;
//  - snapshot: the entries the peer needs are compacted; a snapshot is on its way and appends wait.

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** Highest index known to be durable on the peer and to match the leader's log. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = "probe";
  /** probe: an append is out and unanswered, wait for its answer or the next heartbeat answer. */
  probeSent = false;
  /** snapshot: the index of the snapshot sent, and heartbeats left before trying again. */
  pendingSnapshot = 0;
  snapshotTicksLeft = 0;
  /** Heard from since the leader last checked its quorum. */
  recentActive = false;
  /** replicate: the last index of each append sent and not yet acknowledged, oldest first. */
  private inflight: number[] = [];

  constructor(
    next: number,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    // Leaving snapshot state: the peer holds at least the snapshot if it took it.
    this.next =
      this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = "probe";
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflight = [];
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeSnapshot(snapshotIndex: number, retryTicks: number): void {
    this.state = "snapshot";
    this.pendingSnapshot = snapshotIndex;
    this.snapshotTicksLeft = retryTicks;
    this.inflight = [];
  }

  /** Can another append go out now? */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflight.length >= this.maxInflight;
      case "snapshot":
        return true;
    }
  }

  /** An append carrying entries through `lastIndex` went out. */
  sentAppend(lastIndex: number, entryCount: number): void {
    if (this.state === "replicate") {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  /** The peer acknowledged `index`. Returns false for a stale acknowledgement that teaches nothing. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    while (this.inflight.length > 0 && this.inflight[0]! <= index) this.inflight.shift();
    return updated;
  }

  /**
   * The peer rejected the append that followed `rejected`; its own log ends at or diverges before
   * `hintIndex`, and `nextGuess` is where the leader thinks it may match. Returns false for a stale
   * rejection (one answering an append superseded since).
   */
  maybeDecrease(rejected: number, hintIndex: number, nextGuess: number): boolean {
    if (hintIndex < this.match) {
      // The peer no longer holds what it acknowledged (its log was damaged; or this is an old answer,
      // and re-probing costs a round trip): stop counting on it and find where it is.
      this.match = hintIndex;
      this.becomeProbe();
    } else if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.becomeProbe();
    } else if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(this.match + 1, Math.min(rejected, nextGuess));
    this.probeSent = false;
    return true;
  }

  /** A heartbeat answer: the peer is alive, so a lost append must not stall it forever. */
  onHeartbeatResponse(): void {
    this.probeSent = false;
    // Free the oldest slot: if all answers were lost, the next append exposes the gap and we re-probe.
    if (this.state === "replicate" && this.inflight.length >= this.maxInflight) this.inflight.shift();
  }

  inflightCount(): number {
    return this.inflight.length;
  }
}
