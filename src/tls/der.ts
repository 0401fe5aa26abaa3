// Just enough DER to read a certificate's subject name and subjectAltName extension; Node's X509Certificate
// exposes both only as display strings, which lose the RDN structure and the order of attributes.

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
}

export class DerError extends Error {}

export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError("truncated DER element");
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new DerError("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError("DER element overruns its container");
  return { tag, start, end };
}

/** The elements directly inside a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.start;
  while (pos < parent.end) {
    const t = readTlv(buf, pos, parent.end);
    out.push(t);
    pos = t.end;
  }
  return out;
}

export function decodeOid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06 || t.end <= t.start) throw new DerError("expected an OBJECT IDENTIFIER");
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if ((buf[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** The text of an ASN.1 string type, or undefined for anything else (numbers, binary values...). */
export function decodeString(buf: Uint8Array, t: Tlv): string | undefined {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return bytes.toString("utf8");
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
      return bytes.toString("latin1");
    case 0x14: // T61String, read as Latin-1 as Go does
      return bytes.toString("latin1");
    case 0x1e: {
      // BMPString: UTF-16 big-endian
      if (bytes.length % 2 !== 0) return undefined;
      const le = Buffer.from(bytes);
      le.swap16();
      return le.toString("utf16le");
    }
    default:
      return undefined;
  }
}
