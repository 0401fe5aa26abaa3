// Opening a store directory: scan every block, rebuild what the indexes need, and report damage.

import * as fs from "node:fs";
import type { StoreProblem } from "../types.js";
import { Block, type ScannedMessage, scanBlock } from "./block.js";

export interface LoadResult {
  /** Readable blocks in sequence order. */
  blocks: Block[];
  /** Highest sequence ever assigned, and its timestamp. */
  lastSeq: number;
  lastTimeNs: bigint;
  problems: Omit<StoreProblem, "time">[];
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
  const out: LoadResult = { blocks: [], lastSeq, lastTimeNs: 0n, problems: [] };
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
    const scan = scanBlock(buf);
    const block = new Block(dir, id, scan.floor ?? out.lastSeq + 1, true);
    block.size = block.written = buf.length;
    block.damaged = scan.problems.length > 0;
    for (const p of scan.problems) out.problems.push({ ...p, file: block.file });
    if (scan.tailDamaged && i === ids.length - 1) {
      fs.truncateSync(block.path, scan.validEnd);
      block.size = block.written = scan.validEnd;
    }
    if (block.floor - 1 > out.lastSeq) {
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
  }
  return out;
}
