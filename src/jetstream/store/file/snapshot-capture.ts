// Taking an index snapshot (snapshot.ts) of a file store at a clean close: its blocks, as their files are
// on disk now, and every live message's index slot, in sequence order.

import type { SeqIndex } from "../seq-index.js";
import type { SubjectIndex } from "../subject-index.js";
import type { Block } from "./block.js";
import { blockStat, type Snapshot } from "./snapshot.js";

/** The snapshot (without lastTimeNs, which the caller sets), or undefined when a block is not settled. */
export function captureSnapshot(
  blocks: readonly Block[],
  index: SeqIndex<number>,
  subjects: SubjectIndex,
  ttl: ReadonlyMap<number, number>,
  lastSeq: number,
): Omit<Snapshot, "lastTimeNs"> | undefined {
  if (blocks.some((b) => !b.onDisk || b.hasPending || b.written !== b.size)) return undefined;
  const n = index.count;
  const s: Omit<Snapshot, "lastTimeNs"> = {
    lastSeq,
    blocks: blocks.map((b) => ({
      id: b.id,
      floor: b.floor,
      live: b.live,
      liveBytes: b.liveBytes,
      maxSeq: b.maxSeq,
      ...blockStat(b.path),
    })),
    subjects: [],
    count: n,
    seq: new Float64Array(n),
    subj: new Int32Array(n),
    size: new Uint32Array(n),
    ms: new Float64Array(n),
    subNs: new Uint32Array(n),
    off: new Uint32Array(n),
    ttlSeqs: [...ttl.keys()],
    ttls: [...ttl.values()],
  };
  if (s.blocks.some((m, i) => m.size !== blocks[i].size)) return undefined;
  for (const e of subjects.all()) s.subjects[e.id] = e.subject;
  for (let i = 0; i < s.subjects.length; i++) s.subjects[i] ??= "";
  let i = 0;
  index.forEach(index.first(), lastSeq, (seq, id, size, off) => {
    s.seq[i] = seq;
    s.subj[i] = id;
    s.size[i] = size;
    s.ms[i] = index.timeMs(seq);
    s.subNs[i] = index.timeSubNs(seq);
    s.off[i] = off;
    i++;
    return true;
  });
  return i === n ? s : undefined;
}
