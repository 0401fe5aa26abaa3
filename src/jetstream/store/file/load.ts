// Opening a store directory: scan every block, rebuild what the indexes need, and report damage.

import * as fs from "node:fs";
import type { StoreProblem } from "../types.js";
import { Block, readBlockFloor, type ScannedMessage, scanBlock } from "./block.js";

export interface LoadResult {
  /** Readable blocks in sequence order. */
  blocks: Block[];
  /** Highest sequence ever assigned, and its timestamp. */
  lastSeq: number;
  lastTimeNs: bigint;
  problems: Omit<StoreProblem, "time">[];
  /** Blocks holding records above a later block's floor (an unfinished truncate), to rewrite. */
  trimmed: Block[];
}

/**
 * Scan blocks `ids` (ascending) of `dir`, calling `onMessage` for each live message in sequence order.
 * The unreadable tail of the newest block is cut off, since appends continue right after it.
 */
export function loadBlocks(
  dir: string,
  ids: number[],
  lastSeq: number,
  onMessage: (m: ScannedMessage) => void,
): LoadResult {
  const out: LoadResult = { blocks: [], lastSeq, lastTimeNs: 0n, problems: [], trimmed: [] };
  // Every record of a block lies below the floor of each later block, except after a truncate whose
  // cleanup did not finish: the later (lower) floor wins. Read the floors first to know each block's cut.
  const cuts = new Array<number>(ids.length).fill(Number.POSITIVE_INFINITY);
  let low = Number.POSITIVE_INFINITY;
  for (let i = ids.length - 1; i >= 0; i--) {
    cuts[i] = low;
    const floor = readBlockFloor(new Block(dir, ids[i], 0, true).path);
    if (floor !== undefined && floor < low) low = floor;
  }
  let tracked = 0;
  for (const [i, id] of ids.entries()) {
    const probe = new Block(dir, id, 0, true);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(probe.path);
    } catch (err) {
      out.problems.push({
        kind: "read-error",
        file: probe.file,
        message: `cannot read block: ${String(err)}`,
      });
      continue;
    }
    if (buf.length === 0) {
      // Created but never written (a crash right after creating it): holds nothing.
      fs.unlinkSync(probe.path);
      continue;
    }
    const scan = scanBlock(buf, cuts[i]);
    const block = new Block(dir, id, scan.floor ?? out.lastSeq + 1, true);
    block.size = block.written = buf.length;
    block.damaged = scan.problems.length > 0;
    for (const p of scan.problems) out.problems.push({ ...p, file: block.file });
    if (scan.tailDamaged && i === ids.length - 1) {
      fs.truncateSync(block.path, scan.validEnd);
      block.size = block.written = scan.validEnd;
    }
    if (block.floor - 1 > out.lastSeq && block.floor <= cuts[i]) {
      out.lastSeq = block.floor - 1;
      out.lastTimeNs = scan.floorTimeNs;
    }
    if (scan.maxSeq > out.lastSeq) {
      out.lastSeq = scan.maxSeq;
      out.lastTimeNs = scan.maxSeqTimeNs;
    }
    block.maxSeq = scan.maxSeq;
    for (const m of scan.messages) {
      if (scan.deleted.has(m.seq)) continue;
      if (m.seq <= tracked) {
        out.problems.push({
          kind: "corrupt",
          file: block.file,
          offset: m.offset,
          message: `seq ${m.seq} appears again; ignored`,
        });
        continue;
      }
      tracked = m.seq;
      block.live++;
      block.liveBytes += m.length;
      onMessage(m);
    }
    out.blocks.push(block);
    if (scan.cut) out.trimmed.push(block);
  }
  return out;
}
