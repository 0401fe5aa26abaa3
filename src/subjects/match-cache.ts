// Bounded cache of match results keyed by literal publish subject.
// Entries are immutable snapshots, so invalidation drops them rather than patching them: a caller may still
// be iterating an old result while a handler subscribes or unsubscribes.

export const DEFAULT_MATCH_CACHE_SIZE = 1024;

export class MatchCache<V> {
  private readonly entries = new Map<string, V>();
  /** How many entries one eviction pass drops; batching keeps the per-miss cost amortised O(1). */
  private readonly sweep: number;

  constructor(readonly capacity: number = DEFAULT_MATCH_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`invalid cache capacity: ${capacity}`);
    this.sweep = Math.max(1, capacity >> 2);
  }

  get size(): number {
    return this.entries.size;
  }

  get(subject: string): V | undefined {
    return this.entries.get(subject);
  }

  set(subject: string, value: V): void {
    if (this.capacity === 0) return;
    if (this.entries.size >= this.capacity) this.evict();
    this.entries.set(subject, value);
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
  }

  /** A literal subscription only affects the cached result for its own subject. */
  invalidateLiteral(subject: string): void {
    this.entries.delete(subject);
  }

  /**
   * A wildcard subscription may affect any cached subject it matches. Full scan, bounded by the capacity;
   * the pattern arrives pre-split so each key is checked without allocating.
   */
  invalidatePattern(patternTokens: readonly string[]): void {
    if (this.entries.size === 0) return;
    // Deleting the current key while iterating a Map is well-defined in JS.
    for (const subject of this.entries.keys()) {
      if (patternMatchesSubject(patternTokens, subject)) this.entries.delete(subject);
    }
  }

  /**
   * Drop the oldest entries (Map iteration is insertion order). Not LRU: tracking recency would cost a
   * delete+set on every hit, and a hot subject evicted here is simply re-cached on its next miss.
   */
  private evict(): void {
    let n = this.sweep;
    for (const subject of this.entries.keys()) {
      this.entries.delete(subject);
      if (--n === 0) break;
    }
  }
}

/**
 * Token-wise match of a split pattern against a subject string, scanning the subject in place.
 * Subject tokens are taken literally (a lenient publish to "foo.*" is the literal token "*"), which is
 * exactly how the trie treats them. Cached subjects never contain empty tokens.
 */
export function patternMatchesSubject(patternTokens: readonly string[], subject: string): boolean {
  const len = subject.length;
  let start = 0;
  for (let i = 0; i < patternTokens.length; i++) {
    if (start > len) return false; // subject ran out of tokens
    const pt = patternTokens[i];
    if (pt === ">") return true; // at least one token remains
    let end = subject.indexOf(".", start);
    if (end === -1) end = len;
    if (pt !== "*" && (end - start !== pt.length || !subject.startsWith(pt, start))) return false;
    start = end + 1;
  }
  return start > len;
}
