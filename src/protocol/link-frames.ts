// Message frames between servers (routes, gateways, leaf nodes), written straight into a connection's
// output buffer. One writer for every verb:
//   RMSG <account> <subject> [reply | + reply q… | | q…] <size>                 route/gateway, no headers
//   HMSG <account> <subject> [reply | + reply q… | | q…] <hdr size> <size>      route/gateway with headers
//   LMSG <subject> [reply | + reply q… | | q…] <size>                           leaf, no headers
//   HMSG <subject> [reply | + reply q… | | q…] <hdr size> <size>                leaf with headers
//   LMSG <origin> <account> <subject> [reply | …] <hdr size> <size>             route, from a leaf cluster
// The account token is left out on leaf links (bound to one account) and on dedicated account routes.

import type { Outbound } from "../server/outbound.js";
import { type Token, writeToken, writeUint } from "./encode.js";

const R = 0x52;
const L = 0x4c;
const H = 0x48;

/** Append one message frame; returns the payload bytes counted for statistics (headers + payload). */
export function writeLinkMessage(
  out: Outbound,
  leaf: boolean,
  account: string | undefined,
  subject: string,
  reply: Token | undefined,
  queues: readonly string[] | undefined,
  src: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
  /** On a route: the leaf cluster the message came from (LMSG, which always carries a header size). */
  origin?: string,
): number {
  const size = end - start;
  // Worst case: every char 3 bytes in UTF-8, two 10-digit numbers, separators.
  let room =
    (subject.length + (account?.length ?? 0) + (reply?.length ?? 0) + (origin?.length ?? 0)) * 3 + size + 48;
  if (queues !== undefined) for (let i = 0; i < queues.length; i++) room += queues[i].length * 3 + 1;
  out.ensure(room);
  const buf = out.buf;
  let o = out.len;
  buf[o++] = origin !== undefined ? L : hdrLen > 0 ? H : leaf ? L : R;
  buf[o++] = 0x4d; // M
  buf[o++] = 0x53; // S
  buf[o++] = 0x47; // G
  buf[o++] = 0x20;
  if (origin !== undefined) {
    o = writeToken(buf, o, origin);
    buf[o++] = 0x20;
  }
  if (account !== undefined) {
    o = writeToken(buf, o, account);
    buf[o++] = 0x20;
  }
  o = writeToken(buf, o, subject);
  buf[o++] = 0x20;
  if (queues !== undefined && queues.length > 0) {
    if (reply !== undefined) {
      buf[o++] = 0x2b; // +
      buf[o++] = 0x20;
      o = writeToken(buf, o, reply);
      buf[o++] = 0x20;
    } else {
      buf[o++] = 0x7c; // |
      buf[o++] = 0x20;
    }
    for (let i = 0; i < queues.length; i++) {
      o = writeToken(buf, o, queues[i]);
      buf[o++] = 0x20;
    }
  } else if (reply !== undefined) {
    o = writeToken(buf, o, reply);
    buf[o++] = 0x20;
  }
  if (hdrLen > 0 || origin !== undefined) {
    o = writeUint(buf, o, hdrLen);
    buf[o++] = 0x20;
  }
  o = writeUint(buf, o, size);
  buf[o++] = 0x0d;
  buf[o++] = 0x0a;
  if (size <= 64) {
    for (let i = 0; i < size; i++) buf[o + i] = src[start + i];
  } else {
    buf.set(src.subarray(start, end), o);
  }
  o += size;
  buf[o++] = 0x0d;
  buf[o++] = 0x0a;
  out.len = o;
  return size;
}

/** `RS+`/`LS+` interest line: `<verb> [account] <subject> [<queue> <weight>]`. */
export function interestLine(
  verb: "RS+" | "LS+",
  account: string | undefined,
  subject: string,
  queue: string | undefined,
  weight: number,
): string {
  const acc = account === undefined ? "" : `${account} `;
  return queue === undefined
    ? `${verb} ${acc}${subject}\r\n`
    : `${verb} ${acc}${subject} ${queue} ${weight}\r\n`;
}

/** `RS-`/`LS-` line: `<verb> [account] <subject> [<queue>]`. */
export function noInterestLine(
  verb: "RS-" | "LS-",
  account: string | undefined,
  subject: string,
  queue: string | undefined,
): string {
  const acc = account === undefined ? "" : `${account} `;
  return queue === undefined ? `${verb} ${acc}${subject}\r\n` : `${verb} ${acc}${subject} ${queue}\r\n`;
}
