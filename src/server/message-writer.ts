import { type Token, writeHmsg, writeMsg } from "../protocol/encode.js";
import type { Outbound } from "./outbound.js";

// Encodes one delivery (MSG or HMSG) straight into a connection's outbound buffer: no intermediate strings.

/**
 * Append `MSG subject sid [reply] size\r\n<payload>\r\n` (or HMSG with headers when the receiver
 * negotiated them; otherwise headers are stripped). Returns the message bytes counted for stats.
 */
export function writeMessage(
  out: Outbound,
  subject: string,
  sid: string,
  reply: Token | undefined,
  src: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
  headers: boolean,
): number {
  const withHeaders = headers && hdrLen > 0;
  const bodyStart = withHeaders ? start : start + hdrLen;
  const size = end - bodyStart;
  // Worst case instead of exact lengths: every char 3 bytes in UTF-8, two 10-digit numbers, separators.
  out.ensure((subject.length + sid.length + (reply === undefined ? 0 : reply.length)) * 3 + size + 40);
  out.len = withHeaders
    ? writeHmsg(out.buf, out.len, subject, sid, reply, src, start, hdrLen, end)
    : writeMsg(out.buf, out.len, subject, sid, reply, src, bodyStart, end);
  return size;
}
