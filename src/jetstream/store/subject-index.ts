// Per-subject state for both stores: each subject's live sequences, so that subject counts, last-by-subject,
// max_msgs_per_subject and literal filters are O(1) or O(log n) however many subjects there are.
// Wildcard filters resolve to a cached list of matching subjects, kept current as subjects come and go.

import { subjectMatches } from "../../subjects/pattern.js";
import { isLiteralSubject } from "../../subjects/validate.js";
import { SeqList } from "./seq-list.js";

export class SubjectEntry {
  readonly seqs = new SeqList();
  /** Set once the subject has no messages left; cached filter lists drop it lazily. */
  removed = false;
  constructor(
    readonly id: number,
    readonly subject: string,
  ) {}
}

/** A normalized filter: undefined means "every subject". */
export interface Filter {
  patterns: readonly string[];
  literal: boolean;
  key: string;
}

export function toFilter(filter: string | readonly string[] | undefined): Filter | undefined {
  if (filter === undefined) return undefined;
  const list = typeof filter === "string" ? [filter] : filter;
  if (list.length === 0 || list.some((p) => p === ">" || p === "")) return undefined;
  const patterns = [...new Set(list)];
  return { patterns, literal: patterns.every(isLiteralSubject), key: patterns.join(" ") };
}

export function filterMatches(filter: Filter | undefined, subject: string): boolean {
  if (filter === undefined) return true;
  for (const p of filter.patterns) if (subjectMatches(p, subject)) return true;
  return false;
}

interface CachedFilter {
  filter: Filter;
  entries: SubjectEntry[];
  /** Entries in the list that have since been removed. */
  stale: number;
}

/** How many wildcard filters keep a live subject list; each costs a match per new subject. */
const FILTER_CACHE_SIZE = 32;

export class SubjectIndex {
  private bySubject = new Map<string, SubjectEntry>();
  private byId: (SubjectEntry | undefined)[] = [];
  private freeIds: number[] = [];
  private cache = new Map<string, CachedFilter>();

  get size(): number {
    return this.bySubject.size;
  }

  get(subject: string): SubjectEntry | undefined {
    return this.bySubject.get(subject);
  }

  entry(id: number): SubjectEntry {
    return this.byId[id] as SubjectEntry;
  }

  all(): IterableIterator<SubjectEntry> {
    return this.bySubject.values();
  }

  /** Record `seq` (greater than any held for the subject) and return the subject's entry. */
  add(subject: string, seq: number): SubjectEntry {
    let e = this.bySubject.get(subject);
    if (e === undefined) {
      const id = this.freeIds.pop() ?? this.byId.length;
      e = new SubjectEntry(id, subject);
      this.bySubject.set(subject, e);
      this.byId[id] = e;
      for (const cf of this.cache.values()) if (filterMatches(cf.filter, subject)) cf.entries.push(e);
    }
    e.seqs.push(seq);
    return e;
  }

  removeSeq(e: SubjectEntry, seq: number): void {
    e.seqs.remove(seq);
    if (e.seqs.length > 0) return;
    e.removed = true;
    this.bySubject.delete(e.subject);
    this.byId[e.id] = undefined;
    this.freeIds.push(e.id);
    for (const cf of this.cache.values()) if (filterMatches(cf.filter, e.subject)) cf.stale++;
  }

  clear(): void {
    for (const e of this.bySubject.values()) e.removed = true;
    this.bySubject.clear();
    this.byId = [];
    this.freeIds = [];
    this.cache.clear();
  }

  /** Live entries matching the filter, each once. */
  matching(filter: Filter): readonly SubjectEntry[] {
    if (filter.literal) {
      const out: SubjectEntry[] = [];
      for (const p of filter.patterns) {
        const e = this.bySubject.get(p);
        if (e !== undefined) out.push(e);
      }
      return out;
    }
    let cf = this.cache.get(filter.key);
    if (cf !== undefined) {
      this.cache.delete(filter.key);
      if (cf.stale > 0) {
        cf.entries = cf.entries.filter((e) => !e.removed);
        cf.stale = 0;
      }
    } else {
      const entries: SubjectEntry[] = [];
      for (const e of this.bySubject.values()) if (filterMatches(filter, e.subject)) entries.push(e);
      cf = { filter, entries, stale: 0 };
      if (this.cache.size >= FILTER_CACHE_SIZE) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
    }
    this.cache.set(filter.key, cf);
    return cf.entries;
  }
}
