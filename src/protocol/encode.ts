// Encoders for server -> client frames, writing straight into a caller's Buffer at an offset.
// Callers size their buffer with the *Length functions first; the write functions assume the room is there
// and return the offset just past what they wrote.
//
// Tokens (subject, sid, reply) may be given as strings or as already-encoded bytes, so a server can encode
// a published subject once and copy it into the frames of every matching subscription.

export type Token = string | Uint8Array;

const tokenDecoder = new TextDecoder();

/** A token as a string (bytes are decoded as UTF-8): for receivers that keep or compare it. */
export function tokenText(t: Token): string {
  return typeof t === "string" ? t : tokenDecoder.decode(t);
}

/** Short strings are copied with a charCode loop, faster than a native call for typical subjects. */
const SHORT_STRING = 48;

export const PING_FRAME: Buffer = Buffer.from("PING\r\n");
export const PONG_FRAME: Buffer = Buffer.from("PONG\r\n");
export const OK_FRAME: Buffer = Buffer.from("+OK\r\n");

/** `-ERR '<text>'\r\n` as bytes (texts come from errors.ts). */
export function errFrame(text: string): Buffer {
  return Buffer.from(`-ERR '${text}'\r\n`, "utf8");
}

/** `INFO <json>\r\n` as bytes. */
export function infoFrame(json: string): Buffer {
  return Buffer.from(`INFO ${json}\r\n`, "utf8");
}

/** UTF-8 byte length of a token. */
export function tokenLength(t: Token): number {
  return typeof t === "string" ? Buffer.byteLength(t, "utf8") : t.length;
}

/** Number of decimal digits of a non-negative integer. */
export function uintLength(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  if (n < 100000) return 5;
  if (n < 1000000) return 6;
  if (n < 10000000) return 7;
  if (n < 100000000) return 8;
  if (n < 1000000000) return 9;
  return String(n).length;
}

/** Writes a non-negative integer in decimal; returns the new offset. */
export function writeUint(buf: Buffer, offset: number, n: number): number {
  const end = offset + uintLength(n);
  if (n > 0xffffffff) {
    buf.write(String(n), offset, "latin1");
    return end;
  }
  let i = end;
  do {
    const q = Math.floor(n / 10);
    buf[--i] = 48 + n - q * 10;
    n = q;
  } while (n > 0);
  return end;
}

/** Writes a token's UTF-8 bytes; returns the new offset. */
export function writeToken(buf: Buffer, offset: number, t: Token): number {
  if (typeof t !== "string") {
    buf.set(t, offset);
    return offset + t.length;
  }
  const n = t.length;
  if (n <= SHORT_STRING) {
    for (let i = 0; i < n; i++) {
      const c = t.charCodeAt(i);
      if (c > 0x7f) return offset + buf.write(t, offset, "utf8");
      buf[offset + i] = c;
    }
    return offset + n;
  }
  return offset + buf.write(t, offset, "utf8");
}

/** Exact byte length of `MSG <subject> <sid> [reply] <size>\r\n`. */
export function msgHeaderLength(subject: Token, sid: Token, reply: Token | undefined, size: number): number {
  // "MSG " + subject + " " + sid + " " + size + "\r\n", and " " + reply.
  let n = 4 + tokenLength(subject) + 1 + tokenLength(sid) + 1 + uintLength(size) + 2;
  if (reply !== undefined) n += tokenLength(reply) + 1;
  return n;
}

/** Writes `MSG <subject> <sid> [reply] <size>\r\n`; returns the new offset. */
export function writeMsgHeader(
  buf: Buffer,
  offset: number,
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  size: number,
): number {
  buf[offset] = 0x4d; // M
  buf[offset + 1] = 0x53; // S
  buf[offset + 2] = 0x47; // G
  buf[offset + 3] = 0x20;
  let o = writeToken(buf, offset + 4, subject);
  buf[o++] = 0x20;
  o = writeToken(buf, o, sid);
  buf[o++] = 0x20;
  if (reply !== undefined) {
    o = writeToken(buf, o, reply);
    buf[o++] = 0x20;
  }
  o = writeUint(buf, o, size);
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/** Exact byte length of `HMSG <subject> <sid> [reply] <hdrSize> <totalSize>\r\n`. */
export function hmsgHeaderLength(
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  hdrSize: number,
  totalSize: number,
): number {
  let n =
    5 + tokenLength(subject) + 1 + tokenLength(sid) + 1 + uintLength(hdrSize) + 1 + uintLength(totalSize) + 2;
  if (reply !== undefined) n += tokenLength(reply) + 1;
  return n;
}

/** Writes `HMSG <subject> <sid> [reply] <hdrSize> <totalSize>\r\n`; returns the new offset. */
export function writeHmsgHeader(
  buf: Buffer,
  offset: number,
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  hdrSize: number,
  totalSize: number,
): number {
  buf[offset] = 0x48; // H
  buf[offset + 1] = 0x4d; // M
  buf[offset + 2] = 0x53; // S
  buf[offset + 3] = 0x47; // G
  buf[offset + 4] = 0x20;
  let o = writeToken(buf, offset + 5, subject);
  buf[o++] = 0x20;
  o = writeToken(buf, o, sid);
  buf[o++] = 0x20;
  if (reply !== undefined) {
    o = writeToken(buf, o, reply);
    buf[o++] = 0x20;
  }
  o = writeUint(buf, o, hdrSize);
  buf[o++] = 0x20;
  o = writeUint(buf, o, totalSize);
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/** Exact byte length of a whole MSG frame carrying `size` payload bytes. */
export function msgFrameLength(subject: Token, sid: Token, reply: Token | undefined, size: number): number {
  return msgHeaderLength(subject, sid, reply, size) + size + 2;
}

/** Writes a whole MSG frame with payload src[start, end); returns the new offset. */
export function writeMsg(
  buf: Buffer,
  offset: number,
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  src: Uint8Array,
  start: number,
  end: number,
): number {
  let o = writeMsgHeader(buf, offset, subject, sid, reply, end - start);
  o = copyBytes(buf, o, src, start, end);
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/** Exact byte length of a whole HMSG frame of `totalSize` bytes (headers + payload). */
export function hmsgFrameLength(
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  hdrSize: number,
  totalSize: number,
): number {
  return hmsgHeaderLength(subject, sid, reply, hdrSize, totalSize) + totalSize + 2;
}

/** Writes a whole HMSG frame: headers src[start, start + hdrSize), payload up to end; returns the new offset. */
export function writeHmsg(
  buf: Buffer,
  offset: number,
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  src: Uint8Array,
  start: number,
  hdrSize: number,
  end: number,
): number {
  let o = writeHmsgHeader(buf, offset, subject, sid, reply, hdrSize, end - start);
  o = copyBytes(buf, o, src, start, end);
  buf[o] = 0x0d;
  buf[o + 1] = 0x0a;
  return o + 2;
}

/** Writes `\r\n`; returns the new offset. */
export function writeCrlf(buf: Buffer, offset: number): number {
  buf[offset] = 0x0d;
  buf[offset + 1] = 0x0a;
  return offset + 2;
}

function copyBytes(buf: Buffer, offset: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n <= 64) {
    // Small payloads: a loop beats the native copy, which also allocates a view for the source range.
    for (let i = 0; i < n; i++) buf[offset + i] = src[start + i]!;
  } else {
    buf.set(src.subarray(start, end), offset);
  }
  return offset + n;
}
