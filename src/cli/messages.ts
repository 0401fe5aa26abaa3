// Printing messages the same way in sub, request, stream get/view and consumer next: a header line, the
// headers, the body; --raw prints only the body; --json one object per message.

import { type MsgHdrs, headers as makeHeaders } from "@nats-io/transport-node";
import { color, displayBody, humanBytes, humanTime, out } from "./output.js";
import { splitPair } from "./parse.js";

export interface PrintableMsg {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  reply?: string;
  seq?: number;
  time?: Date | string;
  /** Extra facts for the title line ("consumer seq 3", "rtt 1.2ms"). */
  extra?: string[];
}

export interface PrintOptions {
  raw?: boolean;
  json?: boolean;
  headersOnly?: boolean;
  /** Title prefix, e.g. "#3" (sub) or the stream sequence. */
  label?: string;
}

export function headersToRecord(h: MsgHdrs | undefined): Record<string, string[]> | undefined {
  if (h === undefined) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, v] of h) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function headerLines(h: MsgHdrs | undefined): string[] {
  const lines: string[] = [];
  if (h === undefined) return lines;
  if (h.code > 0) lines.push(`Status: ${h.code}${h.description ? ` ${h.description}` : ""}`);
  for (const [k, vs] of h) for (const v of vs) lines.push(`${k}: ${v}`);
  return lines;
}

/** The message as JSON: body as text when it is UTF-8, base64 otherwise. */
export function msgToJson(m: PrintableMsg): Record<string, unknown> {
  const o: Record<string, unknown> = { subject: m.subject };
  if (m.seq !== undefined) o.seq = m.seq;
  if (m.time !== undefined) o.time = typeof m.time === "string" ? m.time : m.time.toISOString();
  if (m.reply) o.reply = m.reply;
  const hdrs = headersToRecord(m.headers);
  if (hdrs !== undefined) o.headers = hdrs;
  Object.assign(o, bodyJson(m.data, "data"));
  return o;
}

/** A body for JSON output: `{ [field]: text }` when it is UTF-8, else `{ [field]_base64: ... }`. */
export function bodyJson(data: Uint8Array, field: string): Record<string, string> {
  const buf = Buffer.from(data);
  const text = buf.toString("utf8");
  return Buffer.from(text, "utf8").equals(buf)
    ? { [field]: text }
    : { [`${field}_base64`]: buf.toString("base64") };
}

export function printMsg(m: PrintableMsg, opts: PrintOptions): void {
  if (opts.json) {
    out(JSON.stringify(msgToJson(m)));
    return;
  }
  if (opts.raw) {
    if (opts.headersOnly) {
      for (const l of headerLines(m.headers)) out(l);
      return;
    }
    process.stdout.write(m.data);
    out();
    return;
  }
  const title: string[] = [];
  if (opts.label !== undefined) title.push(color.bold(`[${opts.label}]`));
  title.push(`Subject: ${color.cyan(m.subject)}`);
  if (m.reply) title.push(`Reply: ${m.reply}`);
  if (m.time !== undefined) title.push(`Received: ${humanTime(m.time)}`);
  for (const e of m.extra ?? []) title.push(e);
  title.push(color.dim(humanBytes(m.data.length)));
  out(title.join("  "));
  const hl = headerLines(m.headers);
  if (hl.length > 0) out(hl.map((l) => `  ${l}`).join("\n"));
  if (!opts.headersOnly) {
    out();
    out(displayBody(m.data));
  }
  out();
}

/** -H key:value flags into message headers. */
export function buildHeaders(
  pairs: string[] | undefined,
  render?: (s: string) => string,
): MsgHdrs | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const h = makeHeaders();
  for (const p of pairs) {
    const [k, v] = splitPair(p);
    h.append(k, render ? render(v) : v);
  }
  return h;
}
