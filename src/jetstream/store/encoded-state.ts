// The stream state as a compact binary record, for replica snapshots: a replica that installs it knows the
// sequence range, times, counts and exactly which sequences in the range hold no message. Deleted
// sequences are written as segments: a long run as (start, length), a stretch of scattered deletes as a
// bitmap, whichever is smaller; so millions of deletes cost bytes when contiguous and an eighth of a byte
// each when scattered.
//
// Layout: "LTSS", version 1, then unsigned varints firstSeq, firstTime ms, firstTime ns-within-ms, lastSeq,
// lastTime ms, lastTime ns, messages, bytes, numSubjects, numDeleted, segment count, the segments, then a
// CRC32 of everything before it. A segment starts with (gap since the previous segment's end, or firstSeq)
// * 2 + kind; kind 0 (run) continues with length - 1, kind 1 (bitmap) with bits - 1 and the bitmap
// (bit i of byte i >> 3 set = start + i is deleted).

import { RecordReader, RecordWriter, uvarintSize } from "./binary-record.js";
import { joinNs, splitNs } from "./clock.js";
import type { StreamState } from "./types.js";

const MAGIC = "LTSS";
const VERSION = 1;
const RUN = 0;
const BITMAP = 1;
/** Runs at least this long are always written as runs. */
const LONG_RUN = 16;
/** Short runs this close together may share a bitmap. */
const NEAR = 16;

/** A decoded state: StreamState with the deleted sequences as inclusive ranges, ascending. */
export interface DecodedStreamState extends Omit<StreamState, "deleted"> {
  deletedRanges: Array<[first: number, last: number]>;
}

interface Segment {
  start: number;
  /** Runs (start, length) it covers; a bitmap when there is more than one. */
  runs: number[];
  end: number;
}

/** Group short runs that lie close together; each group becomes a bitmap if that is smaller. */
function segments(starts: number[], lengths: number[]): Segment[] {
  const out: Segment[] = [];
  let group: Segment | undefined;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i];
    const end = start + lengths[i];
    if (lengths[i] >= LONG_RUN) {
      group = undefined;
      out.push({ start, runs: [start, lengths[i]], end });
    } else if (group !== undefined && start - group.end <= NEAR) {
      group.runs.push(start, lengths[i]);
      group.end = end;
    } else {
      group = { start, runs: [start, lengths[i]], end };
      out.push(group);
    }
  }
  // A group whose runs cost less than its bitmap is split back into runs.
  return out.flatMap((g) => {
    if (g.runs.length === 2) return [g];
    let runBytes = 0;
    for (let i = 0; i < g.runs.length; i += 2) runBytes += 2 + uvarintSize(g.runs[i + 1] - 1);
    if ((g.end - g.start) / 8 + 4 < runBytes) return [g];
    const split: Segment[] = [];
    for (let i = 0; i < g.runs.length; i += 2) {
      split.push({ start: g.runs[i], runs: [g.runs[i], g.runs[i + 1]], end: g.runs[i] + g.runs[i + 1] });
    }
    return split;
  });
}

/**
 * Encode `st` (without `deleted` details); `forEachLive` visits the live sequences in [from, to] in
 * ascending order, which is where the deleted runs come from.
 */
export function encodeStreamState(
  st: StreamState,
  forEachLive: (from: number, to: number, visit: (seq: number) => void) => void,
): Uint8Array {
  const starts: number[] = [];
  const lengths: number[] = [];
  if (st.messages > 0 && st.numDeleted > 0) {
    let expect = st.firstSeq;
    forEachLive(st.firstSeq, st.lastSeq, (seq) => {
      if (seq > expect) {
        starts.push(expect);
        lengths.push(seq - expect);
      }
      expect = seq + 1;
    });
    if (expect <= st.lastSeq) {
      starts.push(expect);
      lengths.push(st.lastSeq - expect + 1);
    }
  }
  const segs = segments(starts, lengths);
  const w = new RecordWriter(MAGIC, VERSION, 96 + 4 * starts.length);
  const first = splitNs(st.firstTimeNs);
  const last = splitNs(st.lastTimeNs);
  for (const v of [st.firstSeq, first.ms, first.subNs, st.lastSeq, last.ms, last.subNs]) w.uvarint(v);
  for (const v of [st.messages, st.bytes, st.numSubjects, st.numDeleted]) w.uvarint(v);
  w.uvarint(segs.length);
  let prevEnd = st.firstSeq;
  for (const g of segs) {
    const bitmap = g.runs.length > 2;
    w.uvarint((g.start - prevEnd) * 2 + (bitmap ? BITMAP : RUN));
    w.uvarint(g.end - g.start - 1);
    if (bitmap) {
      const bits = new Uint8Array(Math.ceil((g.end - g.start) / 8));
      for (let i = 0; i < g.runs.length; i += 2) {
        for (let q = g.runs[i] - g.start, e = q + g.runs[i + 1]; q < e; q++) bits[q >> 3] |= 1 << (q & 7);
      }
      w.raw(bits);
    }
    prevEnd = g.end;
  }
  return w.finish();
}

/** Decode `encodeStreamState` output; a StoreError (CORRUPT) says what is wrong with damaged input. */
export function decodeStreamState(data: Uint8Array): DecodedStreamState {
  const r = new RecordReader(data, MAGIC, "encoded stream state", [VERSION]);
  const time = (): bigint => {
    const ms = r.uvarint();
    const subNs = r.uvarint();
    if (subNs >= 1_000_000) r.fail("bad timestamp");
    return joinNs(ms, subNs);
  };
  const firstSeq = r.uvarint();
  const firstTimeNs = time();
  const lastSeq = r.uvarint();
  const lastTimeNs = time();
  const messages = r.uvarint();
  const bytes = r.uvarint();
  const numSubjects = r.uvarint();
  const numDeleted = r.uvarint();
  const deletedRanges: Array<[number, number]> = [];
  const add = (seq: number, len: number) => {
    const top = deletedRanges[deletedRanges.length - 1];
    if (top !== undefined && top[1] === seq - 1) top[1] = seq + len - 1;
    else deletedRanges.push([seq, seq + len - 1]);
  };
  const n = r.uvarint();
  let prevEnd = firstSeq;
  for (let i = 0; i < n; i++) {
    const head = r.uvarint();
    const start = prevEnd + Math.floor(head / 2);
    const len = r.uvarint() + 1;
    // Segments follow each other in order and lie inside the sequence range.
    if ((i > 0 && start <= prevEnd) || start + len - 1 > lastSeq) r.fail("deleted sequences out of range");
    if (head % 2 === RUN) {
      add(start, len);
    } else {
      const bits = r.raw(Math.ceil(len / 8));
      for (let q = 0; q < len; q++) if ((bits[q >> 3] & (1 << (q & 7))) !== 0) add(start + q, 1);
    }
    prevEnd = start + len;
  }
  r.done();
  let counted = 0;
  for (const [a, b] of deletedRanges) counted += b - a + 1;
  if (counted !== numDeleted) r.fail(`${counted} deleted sequences listed, ${numDeleted} counted`);
  if (messages > 0 && lastSeq - firstSeq + 1 - numDeleted !== messages) {
    r.fail("message count does not match the sequence range");
  }
  if (messages === 0 && (numDeleted !== 0 || bytes !== 0)) r.fail("an empty stream with deletes or bytes");
  return {
    messages,
    bytes,
    firstSeq,
    firstTime: Number(firstTimeNs / 1_000_000n),
    firstTimeNs,
    lastSeq,
    lastTime: Number(lastTimeNs / 1_000_000n),
    lastTimeNs,
    numSubjects,
    numDeleted,
    deletedRanges,
  };
}
