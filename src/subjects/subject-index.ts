// The subject index: which subscriptions are interested in a published subject. Consulted for every
// message, so `match` is tuned for the cached case (one Map lookup, no allocation) and a miss walks the
// trie once over a subject split into tokens once.

import { DEFAULT_MATCH_CACHE_SIZE, MatchCache } from "./match-cache.js";
import { TrieNode } from "./trie-node.js";
import { isValidSubscribeSubject } from "./validate.js";

export interface IndexedSubscription {
  readonly subject: string;
  /** `undefined` for a plain subscription; any string (even "") makes it a queue subscription. */
  readonly queue: string | undefined;
  /** Queue weight (members this subscription stands for); listed that many times in a match. */
  readonly weight?: number;
  /** Stands for interest on another server; a match says whether it holds any such subscription. */
  readonly remote?: boolean;
}

export interface MatchResult<S> {
  /** Every non-queue subscription whose subject matches. */
  readonly plain: readonly S[];
  /** One array per queue group name; members are grouped by name across all matching patterns. */
  readonly queues: readonly (readonly S[])[];
  /** Some subscription in the result is `remote` (the router then applies its link rules). */
  readonly remote: boolean;
}

export interface SubjectIndexStats {
  count: number;
  cacheEntries: number;
  inserts: number;
  removes: number;
  matches: number;
  cacheHits: number;
  /** Largest delivery fan-out (plain subs + queue groups) among cached results. */
  maxFanout: number;
  /** Mean delivery fan-out over cached results (0 when the cache is empty). */
  avgFanout: number;
}

export interface SubjectIndexOptions {
  /** Maximum cached match results; 0 disables the cache. Default 1024. */
  cacheSize?: number;
}

const EMPTY_SUBS: readonly never[] = Object.freeze([]);

/** Shared result for "no interest", so misses with no subscribers allocate nothing once cached. */
export const EMPTY_MATCH: MatchResult<never> = Object.freeze({
  plain: EMPTY_SUBS,
  queues: EMPTY_SUBS,
  remote: false,
});

/**
 * Split a subject into its tokens. A hand-rolled indexOf loop: on V8 it is about 3x faster than
 * `String.prototype.split` for freshly received (non-internalized) subject strings.
 */
export function subjectTokens(subject: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  for (;;) {
    const dot = subject.indexOf(".", start);
    if (dot === -1) {
      tokens.push(subject.slice(start));
      return tokens;
    }
    tokens.push(subject.slice(start, dot));
    start = dot + 1;
  }
}

/** A publish subject with an empty token (`a..b`, `.a`, `a.`, ``) matches nothing. */
function hasEmptyToken(subject: string): boolean {
  const n = subject.length;
  return (
    n === 0 || subject.charCodeAt(0) === 0x2e || subject.charCodeAt(n - 1) === 0x2e || subject.includes("..")
  );
}

/**
 * The token of `subject` starting at `start` (the whole subject when it has one token). Taken only where
 * a trie node has literal children to look it up in: a walk that ends early (an ack subject reaching its
 * consumer's `>`) never slices the rest.
 */
function tokenAt(subject: string, start: number, dot: number): string {
  if (dot === -1) return start === 0 ? subject : subject.slice(start);
  return subject.slice(start, dot);
}

/**
 * Pick one member of a queue group: a uniformly random start index, then the first member from there
 * (wrapping) that `canTake` accepts. `undefined` when the group is empty or every member is rejected.
 */
export function pickQueueMember<S>(members: readonly S[], canTake?: (s: S) => boolean): S | undefined {
  const n = members.length;
  if (n === 0) return undefined;
  const start = Math.floor(Math.random() * n);
  if (canTake === undefined) return members[start];
  for (let i = 0; i < n; i++) {
    const m = members[(start + i) % n];
    if (canTake(m)) return m;
  }
  return undefined;
}

export class SubjectIndex<S extends IndexedSubscription> {
  private readonly root = new TrieNode<S>(undefined, "");
  private readonly cache: MatchCache<MatchResult<S>>;
  private readonly collector = new Collector<S>();
  private subCount = 0;
  private inserts = 0;
  private removes = 0;
  private matches = 0;
  private cacheHits = 0;

  constructor(options: SubjectIndexOptions = {}) {
    this.cache = new MatchCache(options.cacheSize ?? DEFAULT_MATCH_CACHE_SIZE);
  }

  get count(): number {
    return this.subCount;
  }

  /** Add a subscription. Throws on an invalid subscribe subject rather than corrupting the trie. */
  insert(sub: S): void {
    const subject = sub.subject;
    if (!isValidSubscribeSubject(subject)) throw new TypeError(`invalid subscription subject: "${subject}"`);
    const tokens = subjectTokens(subject);
    let node = this.root;
    let wildcard = false;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === "*" || t === ">") wildcard = true;
      node = node.childOrCreate(t);
    }
    node.addSub(sub, sub.queue);
    this.subCount++;
    this.inserts++;
    this.invalidate(subject, tokens, wildcard);
  }

  /** Remove that subscription object; false if it was not in the index. */
  remove(sub: S): boolean {
    const subject = sub.subject;
    const tokens = subjectTokens(subject);
    let node: TrieNode<S> | undefined = this.root;
    let wildcard = false;
    for (let i = 0; i < tokens.length && node !== undefined; i++) {
      const t = tokens[i];
      if (t === "*" || t === ">") wildcard = true;
      node = node.child(t);
    }
    if (node === undefined || !node.removeSub(sub, sub.queue)) return false;
    // Prune emptied nodes upwards so churn over many distinct subjects does not grow the trie forever.
    while (node.parent !== undefined && node.isEmpty()) {
      node.parent.removeChild(node);
      node = node.parent;
    }
    this.subCount--;
    this.removes++;
    this.invalidate(subject, tokens, wildcard);
    return true;
  }

  /**
   * All subscriptions matching a literal publish subject. The result is a frozen snapshot: later inserts
   * and removes never change it. A subject with an empty token matches nothing.
   */
  /**
   * Who is interested in `subject`. `once`: the caller knows this subject will not be published again (a
   * reply to a request), so the result is neither looked up in nor added to the cache.
   */
  match(subject: string, once = false): MatchResult<S> {
    this.matches++;
    const cached = once ? undefined : this.cache.get(subject);
    if (cached !== undefined) {
      this.cacheHits++;
      return cached;
    }
    if (hasEmptyToken(subject)) return EMPTY_MATCH;
    const c = this.collector;
    collect(this.root, subject, 0, c);
    const result = c.finish();
    if (!once) this.cache.set(subject, result);
    return result;
  }

  /** Whether anything matches; answers from the cache when it can, else walks without building a result. */
  hasInterest(subject: string): boolean {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached.plain.length > 0 || cached.queues.length > 0;
    if (hasEmptyToken(subject)) return false;
    return anyInterest(this.root, subject, 0);
  }

  /**
   * Every subscription, walking the trie lazily. Mutating the index while iterating is safe (no errors)
   * but may or may not show the change; take `Array.from` first when a stable view is needed.
   */
  *subscriptions(): IterableIterator<S> {
    yield* walkSubs(this.root);
  }

  /** Number of trie nodes including the root; for diagnostics and growth tests. */
  nodeCount(): number {
    return countNodes(this.root);
  }

  stats(): SubjectIndexStats {
    let max = 0;
    let total = 0;
    for (const r of this.cache.values()) {
      const fanout = r.plain.length + r.queues.length;
      total += fanout;
      if (fanout > max) max = fanout;
    }
    const entries = this.cache.size;
    return {
      count: this.subCount,
      cacheEntries: entries,
      inserts: this.inserts,
      removes: this.removes,
      matches: this.matches,
      cacheHits: this.cacheHits,
      maxFanout: max,
      avgFanout: entries === 0 ? 0 : total / entries,
    };
  }

  private invalidate(subject: string, tokens: readonly string[], wildcard: boolean): void {
    if (wildcard) this.cache.invalidatePattern(tokens);
    else this.cache.invalidateLiteral(subject);
  }
}

/**
 * Accumulates one match. Reused across misses (match is synchronous, so never re-entered); every
 * array it hands out is fresh, so reuse never leaks into a returned result.
 */
class Collector<S extends IndexedSubscription> {
  private plain: S[] | undefined = undefined;
  private queues: Map<string, S[]> | undefined = undefined;
  private remote = false;
  /** The one node reached so far, while there is just one: its own cached result may be the answer. */
  private only: TrieNode<S> | undefined = undefined;

  add(node: TrieNode<S>): void {
    if (!node.hasSubs()) return;
    if (this.only === undefined && this.plain === undefined && this.queues === undefined) {
      this.only = node;
      return;
    }
    const only = this.only;
    if (only !== undefined) {
      this.only = undefined;
      this.merge(only);
    }
    this.merge(node);
  }

  private merge(node: TrieNode<S>): void {
    if (node.plain !== undefined) {
      let plain = this.plain;
      if (plain === undefined) {
        plain = [];
        this.plain = plain;
      }
      for (const s of node.plain) {
        if (s.remote) this.remote = true;
        plain.push(s);
      }
    }
    if (node.queues !== undefined) {
      let queues = this.queues;
      if (queues === undefined) {
        queues = new Map();
        this.queues = queues;
      }
      for (const [name, members] of node.queues) {
        let group = queues.get(name);
        if (group === undefined) {
          group = [];
          queues.set(name, group);
        }
        for (const s of members) {
          if (s.remote) this.remote = true;
          const w = s.weight;
          if (w === undefined || w <= 1) group.push(s);
          else for (let k = 0; k < w; k++) group.push(s);
        }
      }
    }
  }

  finish(): MatchResult<S> {
    const only = this.only;
    if (only !== undefined) {
      this.only = undefined;
      if (only.ownMatch === undefined) {
        this.merge(only);
        only.ownMatch = this.build();
      }
      return only.ownMatch;
    }
    return this.build();
  }

  private build(): MatchResult<S> {
    const plain = this.plain;
    const queues = this.queues;
    const remote = this.remote;
    this.plain = undefined;
    this.queues = undefined;
    this.remote = false;
    if (plain === undefined && queues === undefined) return EMPTY_MATCH;
    let groups: readonly (readonly S[])[] = EMPTY_SUBS;
    if (queues !== undefined) {
      const arr: (readonly S[])[] = [];
      for (const g of queues.values()) arr.push(Object.freeze(g));
      groups = Object.freeze(arr);
    }
    const p = plain === undefined ? EMPTY_SUBS : Object.freeze(plain);
    return Object.freeze({ plain: p, queues: groups, remote });
  }
}

/**
 * Walk the trie for the tokens of `subject` from index `start` (-1: none left). Loops down the
 * single-path case and recurses only where both a literal and a `*` child match. Each node is reached by
 * at most one path, so no subscription is collected twice.
 */
function collect<S extends IndexedSubscription>(
  node: TrieNode<S>,
  subject: string,
  start: number,
  c: Collector<S>,
): void {
  for (;;) {
    if (start === -1) {
      c.add(node);
      return;
    }
    // `>` needs at least one more token, which start !== -1 guarantees.
    if (node.fwc !== undefined) c.add(node.fwc);
    const literals = node.literals;
    const pwc = node.pwc;
    if (literals === undefined && pwc === undefined) return;
    const dot = subject.indexOf(".", start);
    const lit = literals?.get(tokenAt(subject, start, dot));
    start = dot === -1 ? -1 : dot + 1;
    if (pwc !== undefined) {
      if (lit !== undefined) collect(lit, subject, start, c);
      node = pwc;
    } else if (lit !== undefined) {
      node = lit;
    } else {
      return;
    }
  }
}

function anyInterest<S>(node: TrieNode<S>, subject: string, start: number): boolean {
  for (;;) {
    if (start === -1) return node.hasSubs();
    if (node.fwc?.hasSubs()) return true;
    const literals = node.literals;
    const pwc = node.pwc;
    if (literals === undefined && pwc === undefined) return false;
    const dot = subject.indexOf(".", start);
    const lit = literals?.get(tokenAt(subject, start, dot));
    start = dot === -1 ? -1 : dot + 1;
    if (pwc !== undefined) {
      if (lit !== undefined && anyInterest(lit, subject, start)) return true;
      node = pwc;
    } else if (lit !== undefined) {
      node = lit;
    } else {
      return false;
    }
  }
}

function* walkSubs<S>(node: TrieNode<S>): Generator<S, void, undefined> {
  if (node.plain !== undefined) yield* node.plain;
  if (node.queues !== undefined) for (const members of node.queues.values()) yield* members;
  if (node.literals !== undefined) for (const child of node.literals.values()) yield* walkSubs(child);
  if (node.pwc !== undefined) yield* walkSubs(node.pwc);
  if (node.fwc !== undefined) yield* walkSubs(node.fwc);
}

function countNodes<S>(node: TrieNode<S>): number {
  let n = 1;
  if (node.literals !== undefined) for (const child of node.literals.values()) n += countNodes(child);
  if (node.pwc !== undefined) n += countNodes(node.pwc);
  if (node.fwc !== undefined) n += countNodes(node.fwc);
  return n;
}
