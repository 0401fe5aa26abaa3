/** Longest delay setTimeout accepts; later deadlines are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fire` once at the epoch-ms time `at` (at once if it has passed), however far away it is. */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly at: number,
    private readonly fire: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const delay = Math.max(0, this.at - Date.now());
    this.timer = setTimeout(
      () => (delay > MAX_TIMER_MS ? this.arm() : this.fire()),
      Math.min(delay, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
