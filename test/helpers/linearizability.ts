// A linearizability checker for histories of concurrent operations on one object (a KV key used as a
// register with compare-and-set), after Wing & Gong with Lowe's memoisation: search for an order of the
// operations that respects real time (an operation that completed before another began comes first) and in
// which every operation's output is what a sequential model gives. Operations whose outcome is unknown (a
// timeout, a lost connection) may take effect at any point after their call, or never.
//
// The search walks a list of call and return events in time order. At a call it tries to linearize that
// operation next (if the model accepts it from the current state) and goes on; at a return of an operation
// not yet linearized it backtracks. A cache of (linearized set, model state) pairs already explored keeps
// the search from repeating itself, which makes histories of a few thousand operations checkable.

/** One operation as a client saw it. Times are any monotonic clock (ms or ns), the same for all. */
export interface Operation<I, O> {
  readonly input: I;
  /** What came back; ignored for an operation whose outcome is unknown. */
  readonly output: O | undefined;
  readonly call: number;
  /** When the answer arrived; undefined when none did (the operation may or may not have happened). */
  readonly ret: number | undefined;
}

/** A sequential specification: the state after `input` gives `output` from `state`, or undefined if it cannot. */
export interface Model<S, I, O> {
  init(): S;
  /** For an operation with an unknown outcome, `output` is undefined: any output is acceptable. */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** A string that is equal for equal states (the cache key). */
  key(state: S): string;
}

export interface CheckResult {
  linearizable: boolean;
  /** Indexes of the operations in the order found, when linearizable. */
  order?: number[];
  /** Search steps taken (for reporting how hard the history was). */
  steps: number;
  /** The search was cut off at `maxSteps` without an answer. */
  gaveUp?: boolean;
}

interface Entry {
  op: number;
  isCall: boolean;
  time: number;
  /** For a call: its return entry. */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Build the event list: calls and returns by time, a call before a return at the same instant. */
function eventList<I, O>(ops: readonly Operation<I, O>[]): Entry {
  const events: Entry[] = [];
  ops.forEach((o, i) => {
    const ret: Entry = {
      op: i,
      isCall: false,
      time: o.ret ?? Number.POSITIVE_INFINITY,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    events.push({ op: i, isCall: true, time: o.call, match: ret, prev: undefined, next: undefined }, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: 0, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function unlink(call: Entry): void {
  const ret = call.match as Entry;
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function relink(call: Entry): void {
  const ret = call.match as Entry;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  maxSteps = 5_000_000,
): CheckResult {
  const head = eventList(ops);
  const linearized = new Uint8Array(ops.length);
  const seen = new Set<string>();
  const stack: { call: Entry; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  // Done when every operation with a known outcome is linearized (the others may never have happened).
  const known = ops.filter((o) => o.ret !== undefined).length;
  let knownDone = 0;
  const cacheKey = (s: S): string => {
    let bits = "";
    for (let i = 0; i < linearized.length; i += 8) {
      let b = 0;
      for (let j = 0; j < 8 && i + j < linearized.length; j++) b |= linearized[i + j] << j;
      bits += String.fromCharCode(b);
    }
    return `${bits}|${model.key(s)}`;
  };
  while (knownDone < known) {
    if (++steps > maxSteps) return { linearizable: false, steps, gaveUp: true };
    if (entry === undefined) return { linearizable: false, steps };
    if (entry.isCall) {
      const o = ops[entry.op];
      const next = model.step(state, o.input, o.ret === undefined ? undefined : o.output);
      if (next !== undefined) {
        linearized[entry.op] = 1;
        const key = cacheKey(next);
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ call: entry, state });
          if (o.ret !== undefined) knownDone++;
          state = next;
          unlink(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.op] = 0;
      }
      entry = entry.next;
      continue;
    }
    // A return of an operation not linearized yet: the last choice was wrong.
    const top = stack.pop();
    if (top === undefined) return { linearizable: false, steps };
    state = top.state;
    linearized[top.call.op] = 0;
    if (ops[top.call.op].ret !== undefined) knownDone--;
    relink(top.call);
    entry = top.call.next;
  }
  return { linearizable: true, order: stack.map((s) => s.call.op), steps };
}

/**
 * A KV key as the register a compare-and-set workload uses: its value and revision. `put` always succeeds
 * with a new revision; `update` succeeds only when the key is at the expected revision (else it fails and
 * changes nothing); `get` sees the value and revision (revision 0, no value: nothing written yet).
 * Revisions are stream sequences: they only grow, and other keys may take some in between. A write whose
 * outcome is unknown leaves a revision known only to be above the one before, until a read or a
 * successful update reveals it.
 */
export type KvInput =
  | { readonly op: "get" }
  | { readonly op: "put"; readonly value: string }
  | { readonly op: "update"; readonly value: string; readonly expect: number };

export type KvOutput =
  | { readonly ok: true; readonly revision: number; readonly value?: string }
  | { readonly ok: false };

export interface KvState {
  readonly value: string | undefined;
  /** The revision, or (with `above`) unknown but greater than `above`. */
  readonly revision: number;
  readonly above?: number;
}

function atRevision(s: KvState, r: number): boolean {
  return s.above === undefined ? s.revision === r : r > s.above;
}

function after(s: KvState): number {
  return s.above ?? s.revision;
}

export const kvRegister: Model<KvState, KvInput, KvOutput> = {
  init: () => ({ value: undefined, revision: 0 }),
  step(s, input, out) {
    switch (input.op) {
      case "get":
        if (out === undefined) return s;
        if (!out.ok || out.value !== s.value || !atRevision(s, out.revision)) return undefined;
        return { value: s.value, revision: out.revision };
      case "put":
        if (out === undefined) return { value: input.value, revision: 0, above: after(s) };
        if (!out.ok) return s;
        return out.revision > after(s) ? { value: input.value, revision: out.revision } : undefined;
      case "update":
        if (out === undefined) {
          // Linearized means it took effect (one that failed changed nothing, like one never made).
          return atRevision(s, input.expect)
            ? { value: input.value, revision: 0, above: input.expect }
            : undefined;
        }
        if (!out.ok) return s.above !== undefined || s.revision !== input.expect ? s : undefined;
        return atRevision(s, input.expect) && out.revision > input.expect
          ? { value: input.value, revision: out.revision }
          : undefined;
    }
  },
  key: (s) => `${s.revision}:${s.above ?? ""}:${s.value ?? ""}`,
};
