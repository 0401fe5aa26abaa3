// The ack protocol: reading the reply subject every delivery carries (v1 form, 9 tokens:
// `$JS.ACK.<stream>.<consumer>.<delivered count>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>`,
// written by ack-reply.ts) and the payloads clients publish to it (+ACK, -NAK [delay], +WPI, +NXT
// [request], +TERM [reason]).

export const ACK_PREFIX = "$JS.ACK.";

export interface AckTarget {
  stream: string;
  consumer: string;
  deliveries: number;
  sseq: number;
  dseq: number;
}

/** Parse an ack subject (v1); undefined when it is not one. */
export function parseAckSubject(subject: string): AckTarget | undefined {
  const t = subject.split(".");
  if (t.length !== 9 || t[0] !== "$JS" || t[1] !== "ACK") return undefined;
  const deliveries = Number(t[4]);
  const sseq = Number(t[5]);
  const dseq = Number(t[6]);
  if (!Number.isSafeInteger(deliveries) || !Number.isSafeInteger(sseq) || !Number.isSafeInteger(dseq)) {
    return undefined;
  }
  return { stream: t[2], consumer: t[3], deliveries, sseq, dseq };
}

/**
 * The numbers of an ack subject whose `$JS.ACK.<stream>.<consumer>` prefix (`prefixLength` characters) is
 * already known (the subscription was per consumer): read from the end, without splitting the subject.
 */
export function parseAckTail(subject: string, prefixLength: number): AckTarget | undefined {
  let end = subject.length;
  let deliveries = 0;
  let sseq = 0;
  let dseq = 0;
  for (let k = 0; k < 5; k++) {
    const dot = subject.lastIndexOf(".", end - 1);
    if (dot < prefixLength) return undefined;
    let v = 0;
    if (dot + 1 === end) return undefined;
    for (let i = dot + 1; i < end; i++) {
      const d = subject.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      v = v * 10 + d;
    }
    if (k === 2) dseq = v;
    else if (k === 3) sseq = v;
    else if (k === 4) deliveries = v;
    end = dot;
  }
  if (end !== prefixLength) return undefined;
  return { stream: "", consumer: "", deliveries, sseq, dseq };
}

export type AckKind = "ack" | "nak" | "progress" | "next" | "term";

export interface AckPayload {
  kind: AckKind;
  /** -NAK delay in ms (undefined = redeliver now). */
  delayMs?: number;
  /** +TERM reason. */
  reason?: string;
  /** +NXT: the pull request that follows. */
  request?: Uint8Array;
}

const td = new TextDecoder();

function startsWith(data: Uint8Array, word: string): boolean {
  if (data.length < word.length) return false;
  for (let i = 0; i < word.length; i++) if (data[i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Decode an ack payload; anything not recognised is a plain ack (as nats-server treats it). */
export function parseAckPayload(data: Uint8Array): AckPayload {
  if (data.length === 0 || startsWith(data, "+ACK") || startsWith(data, "+OK")) return { kind: "ack" };
  if (startsWith(data, "-NAK")) {
    const arg = td.decode(data.subarray(4)).trim();
    if (arg === "") return { kind: "nak" };
    const delayMs = parseNakDelay(arg);
    return delayMs === undefined ? { kind: "nak" } : { kind: "nak", delayMs };
  }
  if (startsWith(data, "+WPI")) return { kind: "progress" };
  if (startsWith(data, "+NXT")) return { kind: "next", request: data.subarray(4) };
  if (startsWith(data, "+TERM")) {
    const reason = td.decode(data.subarray(5)).trim();
    return reason === "" ? { kind: "term" } : { kind: "term", reason };
  }
  return { kind: "ack" };
}

/** `{"delay": <ns>}` or a Go duration (`5s`, `1m30s`, `250ms`); undefined when unparsable. */
function parseNakDelay(arg: string): number | undefined {
  if (arg.startsWith("{")) {
    try {
      const v = JSON.parse(arg) as { delay?: unknown };
      if (v.delay === undefined || v.delay === null) return 0;
      if (typeof v.delay !== "number" || !Number.isFinite(v.delay)) return undefined;
      return v.delay / 1_000_000;
    } catch {
      return undefined;
    }
  }
  const ns = parseGoDuration(arg);
  return ns === undefined ? undefined : ns / 1_000_000;
}

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s.trim();
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (m === null) return undefined;
    total += Number(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}
