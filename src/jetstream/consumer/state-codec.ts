// The consumer state as a compact binary record: what a consumer's state file holds, and what a replica
// ships as a snapshot. Pending entries and redelivery counts are sorted by stream sequence and written as
// deltas (sequences from the ack floors, times from the oldest delivery), so a consumer with a hundred
// thousand messages awaiting their ack encodes in a few hundred kilobytes, not megabytes of JSON.
//
// Layout: "LTCS", version 1, then varints: dseq, sseq, adflr, asflr, lastDelivered; pending count, and if
// any the oldest delivery time (ms), then per entry (ascending stream seq): seq delta from the previous
// (the first from asflr), zigzag dseq - adflr, time - oldest; redelivered count, then per entry: seq
// delta, count; a byte 1 when a last-per-subject list follows: resume, count, seq deltas; then a CRC32.

import { RecordReader, RecordWriter } from "../store/binary-record.js";
import { ConsumerState } from "./state.js";

const MAGIC = "LTCS";
const VERSION = 1;

export function encodeConsumerState(st: ConsumerState): Uint8Array {
  const w = new RecordWriter(MAGIC, VERSION, 64 + st.pending.size * 8 + st.rdc.size * 4);
  for (const v of [st.dseq, st.sseq, st.adflr, st.asflr, st.lastDelivered]) w.uvarint(v);
  const seqs = [...st.pending.keys()].sort((a, b) => a - b);
  w.uvarint(seqs.length);
  if (seqs.length > 0) {
    let oldest = Number.MAX_SAFE_INTEGER;
    for (const p of st.pending.values()) if (p.ts < oldest) oldest = p.ts;
    w.uvarint(oldest);
    let prev = st.asflr;
    for (const q of seqs) {
      const p = st.pending.get(q) as { dseq: number; ts: number };
      w.varint(q - prev);
      w.varint(p.dseq - st.adflr);
      w.uvarint(p.ts - oldest);
      prev = q;
    }
  }
  const rseqs = [...st.rdc.keys()].sort((a, b) => a - b);
  w.uvarint(rseqs.length);
  let prev = st.asflr;
  for (const q of rseqs) {
    w.varint(q - prev);
    w.uvarint(st.rdc.get(q) as number);
    prev = q;
  }
  const lss = st.lss;
  if (lss !== undefined && lss.at < lss.seqs.length) {
    w.u8(1);
    w.uvarint(lss.resume);
    w.uvarint(lss.seqs.length - lss.at);
    let p = 0;
    for (let i = lss.at; i < lss.seqs.length; i++) {
      w.varint(lss.seqs[i] - p);
      p = lss.seqs[i];
    }
  } else {
    w.u8(0);
  }
  return w.finish();
}

/** Is this (the start of) a binary consumer state, rather than the JSON older versions wrote? */
export function isEncodedConsumerState(data: Uint8Array): boolean {
  return data.length >= 4 && Buffer.from(data.buffer, data.byteOffset, 4).toString("latin1") === MAGIC;
}

/** Decode `encodeConsumerState` output; a StoreError (CORRUPT) says what is wrong with damaged input. */
export function decodeConsumerState(data: Uint8Array): ConsumerState {
  const r = new RecordReader(data, MAGIC, "encoded consumer state", [VERSION]);
  const st = new ConsumerState();
  st.dseq = r.uvarint();
  st.sseq = r.uvarint();
  st.adflr = r.uvarint();
  st.asflr = r.uvarint();
  st.lastDelivered = r.uvarint();
  if (st.dseq < 1 || st.sseq < 1) r.fail("next sequences must be at least 1");
  const seq = (q: number) => {
    if (!Number.isSafeInteger(q) || q < 0) r.fail("sequence out of range");
    return q;
  };
  const n = r.uvarint();
  if (n > 0) {
    const oldest = r.uvarint();
    let prev = st.asflr;
    for (let i = 0; i < n; i++) {
      const q = seq(prev + r.varint());
      if (i > 0 && q <= prev) r.fail("pending entries out of order");
      const dseq = seq(st.adflr + r.varint());
      const ts = oldest + r.uvarint();
      st.pending.set(q, { dseq, ts, due: 0 });
      prev = q;
    }
  }
  const rn = r.uvarint();
  let prev = st.asflr;
  for (let i = 0; i < rn; i++) {
    const q = seq(prev + r.varint());
    if (i > 0 && q <= prev) r.fail("redelivery counts out of order");
    st.rdc.set(q, r.uvarint());
    prev = q;
  }
  const hasLss = r.u8();
  if (hasLss === 1) {
    const resume = r.uvarint();
    const count = r.uvarint();
    const seqs: number[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      p = seq(p + r.varint());
      seqs.push(p);
    }
    if (count > 0) st.lss = { seqs, at: 0, resume };
  } else if (hasLss !== 0) {
    r.fail("bad last-per-subject flag");
  }
  r.done();
  return st;
}
