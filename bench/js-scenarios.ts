// JetStream scenarios against any -js endpoint: synchronous publish (1 in
// flight), asynchronous publish (a window of N in flight), and DIRECT.GET by
// sequence (pipelined and sequential). Raw TCP (js-client.ts): pre-encoded
// `PUB js.bench.x _INBOX.bench.<n> 16` frames, PubAcks counted per frame and
// checked for `"seq"`; error acks (`{"error":...}`), status replies and -ERR are
// counted separately and never as successes.
import { performance } from "node:perf_hooks";
import { coresSince, cpuSnapshot } from "./cpu.js";
import { DirectRequests, findBytes, headerStatus, JsConn, pubRing } from "./js-client.js";
import { PAYLOAD_SIZE } from "./raw-client.js";
import type { Endpoint } from "./scenarios.js";

export const STREAM = "BENCH";
export const JS_SUBJECT = "js.bench.x";
/** Pub ring size: reply subjects `_INBOX.bench.0 .. ring-1`; at least the window, so in-flight acks are distinct. */
const MIN_RING = 8192;
/** Messages in the direct-get stream at most. */
export const DIRECT_STREAM_MAX = 100_000;

/** Setting up JetStream failed (not enabled, stream create refused): the scenario is skipped, not an error. */
export class JsUnavailable extends Error {}

export function streamConfig(name: string): Record<string, unknown> {
  return { name, subjects: ["js.bench.>"], storage: "file", allow_direct: true, num_replicas: 1 };
}

interface ApiError {
  error?: { code?: number; err_code?: number; description?: string };
}

function apiErrText(r: ApiError): string | null {
  if (!r.error) return null;
  return `${r.error.description ?? "error"} (code ${r.error.code ?? "?"}, err_code ${r.error.err_code ?? "?"})`;
}

/** `$JS.API.INFO`: proves JetStream is on; throws JsUnavailable otherwise. */
export async function probeJetStream(conn: JsConn): Promise<void> {
  let r: ApiError;
  try {
    r = await conn.api<ApiError>("$JS.API.INFO", undefined, 10_000);
  } catch (err) {
    throw new JsUnavailable(`$JS.API.INFO failed: ${(err as Error).message}`);
  }
  const e = apiErrText(r);
  if (e) throw new JsUnavailable(`$JS.API.INFO: ${e}`);
}

/** Deletes `name` if it exists, then creates it fresh (file storage, allow_direct). */
export async function createStream(conn: JsConn, name: string): Promise<void> {
  try {
    await conn.api(`$JS.API.STREAM.DELETE.${name}`, undefined, 30_000);
  } catch {
    // not there (or no JetStream: the create below says so)
  }
  let r: ApiError & { config?: unknown };
  try {
    r = await conn.api(`$JS.API.STREAM.CREATE.${name}`, streamConfig(name), 30_000);
  } catch (err) {
    throw new JsUnavailable(`STREAM.CREATE failed: ${(err as Error).message}`);
  }
  const e = apiErrText(r);
  if (e) throw new JsUnavailable(`STREAM.CREATE refused: ${e}`);
  if (!r.config)
    throw new JsUnavailable(`STREAM.CREATE: unexpected reply ${JSON.stringify(r).slice(0, 200)}`);
}

export async function deleteStream(conn: JsConn, name: string): Promise<void> {
  try {
    await conn.api(`$JS.API.STREAM.DELETE.${name}`, undefined, 60_000);
  } catch {
    // best effort
  }
}

export interface StreamState {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
}

/** `$JS.API.STREAM.INFO.<name>` → state; throws on an error reply. */
export async function streamState(conn: JsConn, name: string, timeoutMs = 30_000): Promise<StreamState> {
  const r = await conn.api<ApiError & { state?: Record<string, number> }>(
    `$JS.API.STREAM.INFO.${name}`,
    undefined,
    timeoutMs,
  );
  const e = apiErrText(r);
  if (e) throw new Error(`STREAM.INFO: ${e}`);
  const s = r.state ?? {};
  return {
    messages: s.messages ?? 0,
    bytes: s.bytes ?? 0,
    firstSeq: s.first_seq ?? 0,
    lastSeq: s.last_seq ?? 0,
  };
}

// ---- reply classification -------------------------------------------------------------------

const ERROR_KEY = Buffer.from('"error"', "latin1");
const SEQ_KEY = Buffer.from('"seq":', "latin1");
const NATS_SEQ = Buffer.from("Nats-Sequence:", "latin1");

/** Reply check: null = success, else the error text. */
type Classify = (idx: number, buf: Buffer, hdrLen: number, start: number, end: number) => string | null;

function digitsAt(buf: Buffer, at: number, end: number): number {
  let i = at;
  while (i < end && buf[i] === 32) i++;
  let v = 0;
  let n = 0;
  while (i < end) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
    n++;
  }
  return n > 0 ? v : -1;
}

/** PubAck checker; tracks sequences so gaps / reordering in the acks are visible. */
function pubAckChecker(): { classify: Classify; gaps: () => number; maxSeq: () => number } {
  let last = 0;
  let gaps = 0;
  let max = 0;
  const classify: Classify = (_idx, buf, hdrLen, start, end) => {
    if (hdrLen > 0) {
      const st = headerStatus(buf, start, hdrLen);
      if (st !== null) return `status ${st}`;
    }
    const b = start + hdrLen;
    if (findBytes(buf, b, end, ERROR_KEY) >= 0) return buf.toString("utf8", b, Math.min(end, b + 300));
    const at = findBytes(buf, b, end, SEQ_KEY);
    const seq = at < 0 ? -1 : digitsAt(buf, at + SEQ_KEY.length, end);
    if (seq <= 0) return `unexpected ack: ${buf.toString("utf8", b, Math.min(end, b + 200))}`;
    if (last !== 0 && seq !== last + 1) gaps++;
    last = seq;
    if (seq > max) max = seq;
    return null;
  };
  return { classify, gaps: () => gaps, maxSeq: () => max };
}

/** DIRECT.GET checker: headers, no status, 16-byte body, Nats-Sequence = the sequence asked for. */
function directChecker(expectSeq: (idx: number) => number): Classify {
  return (idx, buf, hdrLen, start, end) => {
    if (hdrLen === 0) return `reply without headers (${end - start} bytes)`;
    const st = headerStatus(buf, start, hdrLen);
    if (st !== null) return `status ${st}`;
    if (end - start - hdrLen !== PAYLOAD_SIZE) return `body of ${end - start - hdrLen} bytes, expected 16`;
    const at = findBytes(buf, start, start + hdrLen, NATS_SEQ);
    const seq = at < 0 ? -1 : digitsAt(buf, at + NATS_SEQ.length, start + hdrLen);
    const want = expectSeq(idx);
    if (seq !== want) return `Nats-Sequence ${seq}, asked for ${want}`;
    return null;
  };
}

// ---- drivers ---------------------------------------------------------------------------------

interface FrameSource {
  slice(from: number, to: number): Buffer;
}

export interface PipeStats {
  sent: number;
  ok: number;
  errors: number;
  firstErrors: string[];
  seconds: number;
  capped: boolean;
}

/**
 * Sends frames [0, total) keeping at most `inflight` without a reply: every chunk
 * of replies is refilled with one write. Stops sending at `deadline` (capped).
 */
async function pipeline(
  conn: JsConn,
  src: FrameSource,
  total: number,
  inflight: number,
  deadline: number,
  stallMs: number,
  classify: Classify,
  onSend?: (from: number, to: number) => void,
): Promise<PipeStats> {
  let sent = 0;
  let done = 0;
  let ok = 0;
  let errors = 0;
  let stopped = false;
  const firstErrors: string[] = [];
  conn.onData = (idx, buf, hdrLen, start, end) => {
    done++;
    const e = classify(idx, buf, hdrLen, start, end);
    if (e === null) ok++;
    else {
      errors++;
      if (firstErrors.length < 5) firstErrors.push(e);
    }
  };
  const refill = (): void => {
    if (stopped || sent >= total) return;
    const room = inflight - (sent - done);
    if (room <= 0) return;
    if (performance.now() > deadline) {
      stopped = true;
      return;
    }
    const to = Math.min(total, sent + room);
    onSend?.(sent, to);
    conn.write(src.slice(sent, to));
    sent = to;
  };
  const t0 = performance.now();
  conn.signal.add(refill);
  try {
    refill();
    await conn.until(
      () => done >= sent && (sent >= total || stopped),
      () => `replies (${done} of ${sent} sent)`,
      stallMs,
    );
  } finally {
    conn.signal.remove(refill);
    conn.onData = null;
  }
  return { sent, ok, errors, firstErrors, seconds: (performance.now() - t0) / 1000, capped: sent < total };
}

/** Pipelined publishes of `count` messages to `subject` (e.g. to fill a stream), PubAcks checked. */
export function runPipelinedPublish(
  conn: JsConn,
  subject: string,
  count: number,
  inflight: number,
  maxMs: number,
  stallMs: number,
): Promise<PipeStats> {
  const ring = Math.max(MIN_RING, inflight);
  return pipeline(
    conn,
    pubRing(subject, ring),
    count,
    inflight,
    performance.now() + maxMs,
    stallMs,
    pubAckChecker().classify,
  );
}

export interface SeqStats extends PipeStats {
  /** Round-trip times in µs of the completed requests. */
  samples: Float64Array;
}

/** One request at a time; each round trip timed. Stops at `deadline` (capped). */
async function sequential(
  conn: JsConn,
  src: FrameSource,
  total: number,
  ring: number,
  deadline: number,
  stallMs: number,
  classify: Classify,
): Promise<SeqStats> {
  let want = -1;
  let got = false;
  let wake: (() => void) | null = null;
  let ok = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  conn.onData = (idx, buf, hdrLen, start, end) => {
    let e: string | null;
    if (idx !== want) e = `reply on inbox ${idx}, expected ${want}`;
    else e = classify(idx, buf, hdrLen, start, end);
    if (e === null) ok++;
    else {
      errors++;
      if (firstErrors.length < 5) firstErrors.push(e);
    }
    if (idx === want) {
      got = true;
      const w = wake;
      wake = null;
      w?.();
    }
  };
  let watchErr: Error | null = null;
  let lastBytes = conn.bytes;
  let lastChange = performance.now();
  const watchdog = setInterval(() => {
    try {
      conn.throwIfBroken();
      if (conn.bytes !== lastBytes) {
        lastBytes = conn.bytes;
        lastChange = performance.now();
      } else if (wake !== null && performance.now() - lastChange > stallMs) {
        throw new Error(`no reply for ${stallMs} ms (request ${want})`);
      }
    } catch (err) {
      watchErr = err as Error;
      const w = wake;
      wake = null;
      w?.();
    }
  }, 250);
  const samples = new Float64Array(total);
  const t0 = performance.now();
  let n = 0;
  try {
    for (; n < total; n++) {
      want = n % ring;
      got = false;
      const done = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const a = performance.now();
      conn.write(src.slice(n, n + 1));
      await done;
      const b = performance.now();
      if (watchErr) throw watchErr;
      if (!got) throw new Error(`request ${n}: woken without a reply`);
      samples[n] = (b - a) * 1000;
      if (b > deadline) {
        n++;
        break;
      }
    }
  } finally {
    clearInterval(watchdog);
    conn.onData = null;
  }
  return {
    sent: n,
    ok,
    errors,
    firstErrors,
    seconds: (performance.now() - t0) / 1000,
    capped: n < total,
    samples: samples.subarray(0, n),
  };
}

export interface Latency {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

function latency(samples: Float64Array): Latency {
  const sorted = Float64Array.from(samples).sort();
  const pct = (p: number): number =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50Us: pct(0.5),
    p90Us: pct(0.9),
    p99Us: pct(0.99),
    meanUs: sorted.length ? sum / sorted.length : Number.NaN,
    maxUs: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

// ---- scenarios -------------------------------------------------------------------------------

export interface JsRunConfig {
  count: number;
  inflight: number;
  maxSeconds: number;
  stallMs: number;
}

export interface JsPubResult {
  mode: "sync" | "async";
  inflight: number;
  /** Measured publishes sent / acknowledged with a PubAck / answered with an error. */
  sent: number;
  acked: number;
  errorAcks: number;
  firstErrors: string[];
  seconds: number;
  /** PubAcks per second (successes only). */
  rate: number;
  /** Sync only. */
  latency: Latency | null;
  /** Acks whose seq was not the previous ack's + 1. */
  seqGaps: number;
  /** Stream messages after the run, and what the acks say it should hold (warm-up included). */
  streamMessages: number | null;
  expectedMessages: number;
  serverCores: number | null;
  harnessCores: number;
  foreignCores: number | null;
  capped: boolean;
}

/** Synchronous (inflight = 1) or asynchronous (pipelined) publish into a fresh file stream. */
export async function runJsPublish(
  ep: Endpoint,
  mode: "sync" | "async",
  cfg: JsRunConfig,
): Promise<JsPubResult> {
  const conn = await JsConn.connect(ep.host, ep.port);
  try {
    await createStream(conn, STREAM);
    const inflight = mode === "sync" ? 1 : cfg.inflight;
    const ring = Math.max(MIN_RING, inflight);
    const frames = pubRing(JS_SUBJECT, ring);
    const acks = pubAckChecker();
    const warm = mode === "sync" ? Math.min(500, cfg.count) : Math.min(Math.ceil(cfg.count / 10), 50_000);
    const warmDeadline = performance.now() + Math.min(5, cfg.maxSeconds) * 1000;
    let warmOk: number;
    if (mode === "sync") {
      const w = await sequential(conn, frames, warm, ring, warmDeadline, cfg.stallMs, acks.classify);
      if (w.errors > 0) throw new Error(`warm-up: ${w.errors} error acks, first: ${w.firstErrors[0]}`);
      warmOk = w.ok;
    } else {
      const w = await pipeline(conn, frames, warm, inflight, warmDeadline, cfg.stallMs, acks.classify);
      if (w.errors > 0) throw new Error(`warm-up: ${w.errors} error acks, first: ${w.firstErrors[0]}`);
      warmOk = w.ok;
    }
    const snap = cpuSnapshot(ep.pid);
    const deadline = snap.wall + cfg.maxSeconds * 1000;
    const stats =
      mode === "sync"
        ? await sequential(conn, frames, cfg.count, ring, deadline, cfg.stallMs, acks.classify)
        : await pipeline(conn, frames, cfg.count, inflight, deadline, cfg.stallMs, acks.classify);
    const cores = coresSince(snap, ep.pid);
    let streamMessages: number | null = null;
    try {
      streamMessages = (await streamState(conn, STREAM)).messages;
    } catch {
      streamMessages = null;
    }
    await deleteStream(conn, STREAM);
    return {
      mode,
      inflight,
      sent: stats.sent,
      acked: stats.ok,
      errorAcks: stats.errors,
      firstErrors: stats.firstErrors,
      seconds: stats.seconds,
      rate: stats.ok / stats.seconds,
      latency: "samples" in stats ? latency((stats as SeqStats).samples) : null,
      seqGaps: acks.gaps(),
      streamMessages,
      expectedMessages: warmOk + stats.ok,
      serverCores: cores.server,
      harnessCores: cores.harness,
      foreignCores: cores.foreign,
      capped: stats.capped,
    };
  } finally {
    conn.close();
  }
}

export interface JsDirectResult {
  /** Messages in the stream the gets read from, and the async fill rate (informational). */
  stored: number;
  fillRate: number;
  inflight: number;
  /** Pipelined gets of random sequences. */
  requests: number;
  ok: number;
  errors: number;
  seconds: number;
  rate: number;
  /** Sequential gets (1 in flight), random sequences. */
  seqRequests: number;
  seqOk: number;
  seqErrors: number;
  latency: Latency;
  firstErrors: string[];
  serverCores: number | null;
  harnessCores: number;
  foreignCores: number | null;
  capped: boolean;
}

/** Deterministic pseudo-random sequences in [1, stored] (same for both servers). */
function randomSeqs(n: number, stored: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = 1 + (x % stored);
  }
  return out;
}

/**
 * DIRECT.GET by sequence on a stream of min(count, 100k) messages (allow_direct):
 * sequential gets (p50/p99), then `directInflight` pipelined gets of random sequences.
 */
export async function runJsDirect(
  ep: Endpoint,
  cfg: JsRunConfig & { syncCount: number; fillInflight: number },
): Promise<JsDirectResult> {
  const conn = await JsConn.connect(ep.host, ep.port);
  try {
    await createStream(conn, STREAM);
    const stored = Math.min(cfg.count, DIRECT_STREAM_MAX);
    const ring = Math.max(MIN_RING, cfg.fillInflight);
    const acks = pubAckChecker();
    const fill = await pipeline(
      conn,
      pubRing(JS_SUBJECT, ring),
      stored,
      cfg.fillInflight,
      performance.now() + 120_000,
      cfg.stallMs,
      acks.classify,
    );
    if (fill.errors > 0 || fill.ok !== stored) {
      throw new Error(
        `filling the stream: ${fill.ok} of ${stored} acked, first error: ${fill.firstErrors[0]}`,
      );
    }
    const st = await streamState(conn, STREAM);
    if (st.messages !== stored) throw new Error(`stream holds ${st.messages} messages after ${stored} acks`);

    const getRing = Math.max(4096, cfg.inflight);
    /** Sequential gets of `seqs`: request i goes to inbox i % ring and must return seqs[i]. */
    const sequentialGets = (seqs: Uint32Array, deadline: number): Promise<SeqStats> => {
      const reqs = new DirectRequests(STREAM, seqs, getRing);
      let cur = 0;
      const src: FrameSource = {
        slice: (from, to) => {
          cur = from;
          return reqs.slice(from, to);
        },
      };
      const check = directChecker(() => seqs[cur] as number);
      return sequential(conn, src, seqs.length, getRing, deadline, cfg.stallMs, check);
    };
    /** Pipelined gets of `seqs`; the sequence asked for on each inbox is remembered when sent. */
    const pipelinedGets = (seqs: Uint32Array, deadline: number): Promise<PipeStats> => {
      const reqs = new DirectRequests(STREAM, seqs, getRing);
      const pending = new Int32Array(getRing).fill(-2);
      const onSend = (from: number, to: number): void => {
        for (let i = from; i < to; i++) pending[i % getRing] = seqs[i] as number;
      };
      const check = directChecker((idx) => (idx >= 0 && idx < getRing ? (pending[idx] as number) : -2));
      return pipeline(conn, reqs, seqs.length, cfg.inflight, deadline, cfg.stallMs, check, onSend);
    };

    const seqWarm = await sequentialGets(randomSeqs(200, stored, 1), performance.now() + 5000);
    if (seqWarm.errors > 0) {
      throw new Error(`direct get warm-up: ${seqWarm.errors} errors, first: ${seqWarm.firstErrors[0]}`);
    }
    const seqStats = await sequentialGets(
      randomSeqs(cfg.syncCount, stored, 12345),
      performance.now() + cfg.maxSeconds * 1000,
    );
    const warmN = Math.min(Math.ceil(cfg.count / 10), 20_000);
    const w = await pipelinedGets(randomSeqs(warmN, stored, 2), performance.now() + 5000);
    if (w.errors > 0) throw new Error(`direct get warm-up: ${w.errors} errors, first: ${w.firstErrors[0]}`);
    const measured = randomSeqs(cfg.count, stored, 67890);
    const snap = cpuSnapshot(ep.pid);
    const stats = await pipelinedGets(measured, snap.wall + cfg.maxSeconds * 1000);
    const cores = coresSince(snap, ep.pid);
    await deleteStream(conn, STREAM);
    return {
      stored,
      fillRate: fill.ok / fill.seconds,
      inflight: cfg.inflight,
      requests: stats.sent,
      ok: stats.ok,
      errors: stats.errors,
      seconds: stats.seconds,
      rate: stats.ok / stats.seconds,
      seqRequests: seqStats.sent,
      seqOk: seqStats.ok,
      seqErrors: seqStats.errors,
      latency: latency(seqStats.samples),
      firstErrors: [...seqStats.firstErrors, ...stats.firstErrors].slice(0, 5),
      serverCores: cores.server,
      harnessCores: cores.harness,
      foreignCores: cores.foreign,
      capped: stats.capped || seqStats.capped,
    };
  } finally {
    conn.close();
  }
}
