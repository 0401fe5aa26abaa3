// Go's %q of a byte slice, which nats-server uses to trace payloads (`MSG_PAYLOAD: ["hi\r\n"]`): a
// double-quoted string with Go's escapes, so a trace reads the same from either server.

const SHORT: Record<number, string> = {
  7: "\\a",
  8: "\\b",
  9: "\\t",
  10: "\\n",
  11: "\\v",
  12: "\\f",
  13: "\\r",
  34: '\\"',
  92: "\\\\",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      out += SHORT[b] ?? (b < 0x20 || b === 0x7f ? `\\x${hex(b, 2)}` : String.fromCharCode(b));
      i++;
      continue;
    }
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    const rune = len > 1 && i + len <= bytes.length ? decodeRune(bytes.subarray(i, i + len)) : undefined;
    if (rune === undefined) {
      // Not UTF-8: Go shows the byte itself.
      out += `\\x${hex(b, 2)}`;
      i++;
      continue;
    }
    const cp = rune.codePointAt(0)!;
    if (isPrintable(rune)) out += rune;
    else out += cp > 0xffff ? `\\U${hex(cp, 8)}` : `\\u${hex(cp, 4)}`;
    i += len;
  }
  return `${out}"`;
}

function decodeRune(seq: Uint8Array): string | undefined {
  try {
    return utf8.decode(seq);
  } catch {
    return undefined;
  }
}

/** Close to Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrintable(rune: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(rune);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}
