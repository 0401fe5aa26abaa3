import type { Outbound } from "./outbound.js";

// Encodes one delivery (MSG or HMSG) straight into a connection's outbound buffer: no intermediate strings.

const MSG = Buffer.from("MSG ");
const HMSG = Buffer.from("HMSG ");

function writeAscii(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return off + buf.write(s.slice(i), off, "utf8");
    buf[off++] = c;
  }
  return off;
}

function writeUint(buf: Buffer, off: number, n: number): number {
  if (n < 10) {
    buf[off] = 48 + n;
    return off + 1;
  }
  let digits = 0;
  for (let t = n; t > 0; t = Math.floor(t / 10)) digits++;
  let p = off + digits;
  for (let t = n; t > 0; t = Math.floor(t / 10)) buf[--p] = 48 + (t % 10);
  return off + digits;
}

/**
 * Append `MSG subject sid [reply] size\r\n<payload>\r\n` (or HMSG with headers when the receiver
 * negotiated them; otherwise headers are stripped). Returns the message bytes counted for stats.
 */
export function writeMessage(
  out: Outbound,
  subject: string,
  sid: string,
  reply: string | undefined,
  src: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
  headers: boolean,
): number {
  const withHeaders = headers && hdrLen > 0;
  const bodyStart = withHeaders ? start : start + hdrLen;
  const size = end - bodyStart;
  const replyLen = reply === undefined ? 0 : reply.length;
  // Worst case: every char 3 bytes in UTF-8, two 10-digit numbers, separators.
  out.ensure((subject.length + sid.length + replyLen) * 3 + size + 40);
  const buf = out.buf;
  let o = out.len;
  if (withHeaders) {
    buf.set(HMSG, o);
    o += 5;
  } else {
    buf.set(MSG, o);
    o += 4;
  }
  o = writeAscii(buf, o, subject);
  buf[o++] = 32;
  o = writeAscii(buf, o, sid);
  buf[o++] = 32;
  if (reply !== undefined) {
    o = writeAscii(buf, o, reply);
    buf[o++] = 32;
  }
  if (withHeaders) {
    o = writeUint(buf, o, hdrLen);
    buf[o++] = 32;
  }
  o = writeUint(buf, o, size);
  buf[o++] = 13;
  buf[o++] = 10;
  if (size < 64) {
    for (let i = bodyStart; i < end; i++) buf[o++] = src[i];
  } else {
    buf.set(src.subarray(bodyStart, end), o);
    o += size;
  }
  buf[o++] = 13;
  buf[o++] = 10;
  out.len = o;
  return size;
}
