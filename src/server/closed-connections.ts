/** The last N closed connections, oldest dropped first, for /connz?state=closed. */
export class ClosedConnections<T> {
  private readonly items: T[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  add(item: T): void {
    if (this.capacity <= 0) return;
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** Oldest first. */
  list(): T[] {
    return this.items.slice(this.head).concat(this.items.slice(0, this.head));
  }
}
