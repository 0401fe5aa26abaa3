// The stream state as a compact binary record, for replica snapshots: a replica that installs it knows the
// sequence range, times, counts and exactly which sequences in the range hold no message. Deleted
// sequences are written as runs (gap, length) or, when that is smaller (deletes scattered one by one), as
// a bitmap over [firstSeq, lastSeq]; either way millions of deletes cost kilobytes, not megabytes.
//
// Layout: "LTSS", version 1, then unsigned varints firstSeq, firstTime ms, firstTime ns-within-ms, lastSeq,
// lastTime ms, lastTime ns, messages, bytes, numSubjects, numDeleted, a deleted-encoding byte
// (0 none, 1 runs, 2 bitmap) and its data, then a CRC32 of everything before it.
//   runs:   count, then per run: gap since the previous run's end (or firstSeq), length - 1
//   bitmap: bytes, then the bitmap (bit i of byte i >> 3 set = firstSeq + i is deleted)

import { RecordReader, RecordWriter, uvarintSize } from "./binary-record.js";
import { joinNs, splitNs } from "./clock.js";
import type { StreamState } from "./types.js";

const MAGIC = "LTSS";
const VERSION = 1;
const NO_DELETES = 0;
const RUNS = 1;
const BITMAP = 2;

/** A decoded state: StreamState with the deleted sequences as inclusive ranges, ascending. */
export interface DecodedStreamState extends Omit<StreamState, "deleted"> {
  deletedRanges: Array<[first: number, last: number]>;
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
  let runBytes = uvarintSize(starts.length);
  let prevEnd = st.firstSeq;
  for (let i = 0; i < starts.length; i++) {
    runBytes += uvarintSize(starts[i] - prevEnd) + uvarintSize(lengths[i] - 1);
    prevEnd = starts[i] + lengths[i];
  }
  const span = st.messages > 0 ? st.lastSeq - st.firstSeq + 1 : 0;
  const bitmapBytes = Math.ceil(span / 8);
  const useBitmap = starts.length > 0 && bitmapBytes + uvarintSize(bitmapBytes) < runBytes;
  const w = new RecordWriter(MAGIC, VERSION, 96 + (useBitmap ? bitmapBytes : runBytes));
  const first = splitNs(st.firstTimeNs);
  const last = splitNs(st.lastTimeNs);
  for (const v of [st.firstSeq, first.ms, first.subNs, st.lastSeq, last.ms, last.subNs]) w.uvarint(v);
  for (const v of [st.messages, st.bytes, st.numSubjects, st.numDeleted]) w.uvarint(v);
  if (starts.length === 0) {
    w.u8(NO_DELETES);
  } else if (useBitmap) {
    w.u8(BITMAP);
    const bits = new Uint8Array(bitmapBytes);
    for (let i = 0; i < starts.length; i++) {
      for (let s = starts[i] - st.firstSeq, e = s + lengths[i]; s < e; s++) bits[s >> 3] |= 1 << (s & 7);
    }
    w.uvarint(bitmapBytes);
    w.raw(bits);
  } else {
    w.u8(RUNS);
    w.uvarint(starts.length);
    prevEnd = st.firstSeq;
    for (let i = 0; i < starts.length; i++) {
      w.uvarint(starts[i] - prevEnd);
      w.uvarint(lengths[i] - 1);
      prevEnd = starts[i] + lengths[i];
    }
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
  const kind = r.u8();
  if (kind === RUNS) {
    const n = r.uvarint();
    let prevEnd = firstSeq;
    for (let i = 0; i < n; i++) {
      const start = prevEnd + r.uvarint();
      const end = start + r.uvarint();
      // Runs are separated by at least one message and lie inside the range.
      if ((i > 0 && start <= prevEnd) || end > lastSeq) r.fail("deleted run out of range");
      deletedRanges.push([start, end]);
      prevEnd = end + 1;
    }
  } else if (kind === BITMAP) {
    const bits = r.raw(r.uvarint());
    if (bits.length !== Math.ceil((lastSeq - firstSeq + 1) / 8)) r.fail("deleted bitmap of the wrong size");
    for (let i = 0; i < bits.length * 8; i++) {
      if ((bits[i >> 3] & (1 << (i & 7))) === 0) continue;
      const seq = firstSeq + i;
      if (seq > lastSeq) r.fail("deleted bitmap past the last sequence");
      const top = deletedRanges[deletedRanges.length - 1];
      if (top !== undefined && top[1] === seq - 1) top[1] = seq;
      else deletedRanges.push([seq, seq]);
    }
  } else if (kind !== NO_DELETES) {
    r.fail(`unknown deleted encoding ${kind}`);
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
