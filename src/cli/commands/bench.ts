// lattice bench pub|sub|pubsub|req|js pub|js fetch|kv put|kv get: load generators with a live progress bar
// and a summary of throughput and latency percentiles (HDR histograms).

import { createRequire } from "node:module";
import type { JetStreamClient, JetStreamManager, JsMsg, PubAck } from "@nats-io/jetstream";
import { AckPolicy, JetStreamApiError, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import type { Histogram } from "hdr-histogram-js";
import { action, examples, interrupted } from "../command-kit.js";
import {
  commandName,
  connectWith,
  type ResolvedConnection,
  resolveConnection,
  Session,
} from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import {
  type Cell,
  color,
  humanBytes,
  humanCount,
  humanDuration,
  note,
  out,
  printJson,
  renderTable,
} from "../output.js";
import { parseNonNegative, parsePositive, parseSize } from "../parse.js";
import { progressBar, progressWanted } from "../progress.js";

// ---------------------------------------------------------------- measuring

interface BenchOptions {
  msgs: number;
  size: number;
  clients: number;
  progress: boolean;
  json?: boolean;
}

/** One client's run: messages, bytes, wall-clock window, and (where meaningful) a latency histogram in µs. */
class ClientRun {
  msgs = 0;
  bytes = 0;
  start = 0;
  end = 0;
  readonly hist: Histogram | undefined;

  constructor(
    readonly name: string,
    withLatency: boolean,
  ) {
    this.hist = withLatency ? newHistogram() : undefined;
  }

  begin(): void {
    if (this.start === 0) this.start = performance.now();
  }

  finish(): void {
    this.end = performance.now();
  }

  record(latencyMs: number): void {
    this.hist?.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }
}

// Loaded on first use: only benchmarks pay for it, not every `lattice` command.
let hdr: typeof import("hdr-histogram-js") | undefined;

function newHistogram(): Histogram {
  hdr ??= createRequire(import.meta.url)("hdr-histogram-js") as typeof import("hdr-histogram-js");
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Whole-run progress: one bar over every client's messages, redrawn on a timer, not per message. */
class Meter {
  done = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly bar;

  constructor(total: number, label: string, enabled: boolean) {
    this.bar = progressBar(total, "items", label, progressWanted(!enabled));
    this.timer = progressWanted(!enabled) ? setInterval(() => this.bar.update(this.done), 100) : undefined;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.bar.update(this.done);
    this.bar.stop();
  }
}

/** Split `total` messages over `n` clients as evenly as possible. */
function shares(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  return Array.from({ length: n }, (_, i) => base + (i < total % n ? 1 : 0));
}

/** The send time (epoch ms, sub-ms precision) in the first 8 bytes of a payload, for end-to-end latency. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function stamp(payload: Uint8Array): Uint8Array {
  if (payload.length >= 8) new DataView(payload.buffer, payload.byteOffset, 8).setFloat64(0, now());
  return payload;
}

function latencyOf(data: Uint8Array): number | undefined {
  if (data.length < 8) return undefined;
  const sent = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
  const d = now() - sent;
  return Number.isFinite(d) && d >= 0 && d < 600_000 ? d : undefined;
}

interface Summary {
  label: string;
  msgs: number;
  bytes: number;
  durationMs: number;
  hist?: Histogram;
}

function summarise(label: string, runs: ClientRun[]): Summary {
  const started = runs.filter((r) => r.start > 0);
  const start = Math.min(...started.map((r) => r.start));
  const end = Math.max(...started.map((r) => r.end));
  let hist: Histogram | undefined;
  for (const r of runs) {
    if (r.hist === undefined) continue;
    hist ??= newHistogram();
    hist.add(r.hist);
  }
  return {
    label,
    msgs: runs.reduce((a, r) => a + r.msgs, 0),
    bytes: runs.reduce((a, r) => a + r.bytes, 0),
    durationMs: started.length > 0 ? end - start : 0,
    hist,
  };
}

const PERCENTILES = [50, 90, 99, 99.9] as const;

/** A percentile, capped at the recorded maximum (HDR reports its bucket's upper edge, which may exceed it). */
function pct(h: Histogram, p: number): number {
  return Math.min(h.getValueAtPercentile(p), h.maxValue);
}

function rowOf(s: Summary): Cell[] {
  const secs = s.durationMs / 1000;
  const rate = secs > 0 ? s.msgs / secs : 0;
  const bw = secs > 0 ? s.bytes / secs : 0;
  const lat = (p: number) => (s.hist && s.hist.totalCount > 0 ? humanDuration(pct(s.hist, p) / 1000) : "-");
  return [
    s.label,
    s.msgs,
    humanDuration(s.durationMs),
    Math.round(rate),
    `${humanBytes(Math.round(bw))}/s`,
    ...PERCENTILES.map(lat),
    s.hist && s.hist.totalCount > 0 ? humanDuration(s.hist.maxValue / 1000) : "-",
  ];
}

function jsonOf(s: Summary): Record<string, unknown> {
  const secs = s.durationMs / 1000;
  const o: Record<string, unknown> = {
    client: s.label,
    msgs: s.msgs,
    bytes: s.bytes,
    duration_ms: Math.round(s.durationMs * 1000) / 1000,
    msgs_per_sec: secs > 0 ? Math.round(s.msgs / secs) : 0,
    bytes_per_sec: secs > 0 ? Math.round(s.bytes / secs) : 0,
  };
  if (s.hist && s.hist.totalCount > 0) {
    o.latency_us = {
      min: s.hist.minNonZeroValue,
      mean: Math.round(s.hist.mean),
      p50: pct(s.hist, 50),
      p90: pct(s.hist, 90),
      p99: pct(s.hist, 99),
      p99_9: pct(s.hist, 99.9),
      max: s.hist.maxValue,
      count: s.hist.totalCount,
    };
  }
  return o;
}

interface Group {
  title: string;
  runs: ClientRun[];
}

/** Print the summary: per client rows and a total per group (publishers, subscribers ...). */
function report(name: string, details: string, groups: Group[], opts: BenchOptions): void {
  const used = groups.filter((g) => g.runs.length > 0);
  if (opts.json) {
    printJson({
      benchmark: name,
      details,
      groups: used.map((g) => ({
        name: g.title,
        total: jsonOf(summarise("total", g.runs)),
        clients: g.runs.map((r) => jsonOf(summarise(r.name, [r]))),
      })),
    });
    return;
  }
  out(color.bold(`${name}: ${details}`));
  for (const g of used) {
    const rows: Cell[][] = [];
    if (g.runs.length > 1) for (const r of g.runs) rows.push(rowOf(summarise(r.name, [r])));
    rows.push(rowOf(summarise(g.runs.length > 1 ? "Total" : g.runs[0].name, g.runs)));
    out();
    out(
      renderTable(
        [
          "Client",
          "Messages",
          "Duration",
          "Msgs/sec",
          "Throughput",
          ...PERCENTILES.map((p) => `p${p}`),
          "Max",
        ],
        rows,
        g.title,
      ),
    );
  }
  const withLatency = used.some((g) => g.runs.some((r) => r.hist !== undefined));
  if (withLatency) out(color.dim(latencyNote(name)));
}

function latencyNote(name: string): string {
  if (name.includes("request")) return "Latency: request to reply round trip.";
  if (name.includes("JetStream publish")) return "Latency: publish to stream acknowledgement.";
  if (name.includes("fetch")) return "Latency: per fetch (pull request to last message of the batch).";
  if (name.includes("KV")) return "Latency: per operation round trip.";
  return "Latency: publish to delivery, end to end (timestamp in the payload).";
}

// ---------------------------------------------------------------- plumbing

async function connectMany(
  cmd: Command,
  n: number,
  role: string,
): Promise<{ conns: NatsConnection[]; conn: ResolvedConnection }> {
  const conn = resolveConnection(cmd);
  const base = commandName(cmd);
  const conns: NatsConnection[] = [];
  try {
    for (let i = 0; i < n; i++) conns.push(await connectWith(conn, `${base} ${role} ${i + 1}`));
  } catch (err) {
    await closeAll(conns);
    throw err;
  }
  return { conns, conn };
}

async function closeAll(conns: NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
}

function payload(size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 8; i < size; i++) p[i] = 97 + (i % 26);
  return p;
}

const FLUSH_EVERY = 1000;

async function publisher(
  nc: NatsConnection,
  subject: string,
  count: number,
  size: number,
  run: ClientRun,
  meter: Meter,
  stop: { stopped: boolean },
): Promise<void> {
  const body = payload(size);
  run.begin();
  for (let i = 0; i < count && !stop.stopped; i++) {
    nc.publish(subject, stamp(body));
    run.msgs++;
    run.bytes += size;
    meter.done++;
    if ((i + 1) % FLUSH_EVERY === 0) await nc.flush();
  }
  await nc.flush();
  run.finish();
}

function subscriber(
  nc: NatsConnection,
  subject: string,
  expect: number,
  run: ClientRun,
  meter: Meter,
  stop: { stopped: boolean },
): { ready: Promise<void>; done: Promise<void> } {
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const sub = nc.subscribe(subject, {
    callback: (_err, m) => {
      run.begin();
      run.msgs++;
      run.bytes += m.data.length;
      meter.done++;
      const l = latencyOf(m.data);
      if (l !== undefined) run.record(l);
      run.end = performance.now();
      if (run.msgs >= expect) {
        sub.unsubscribe();
        resolveDone();
      }
    },
  });
  const poll = setInterval(() => {
    if (stop.stopped) {
      sub.unsubscribe();
      resolveDone();
    }
  }, 50);
  void done.then(() => clearInterval(poll));
  return { ready: nc.flush(), done };
}

function benchOptions(cmd: Command, defaults: { msgs?: number; clients?: string } = {}): Command {
  return cmd
    .option("--msgs <n>", "messages (or operations) in total", parsePositive, defaults.msgs ?? 100_000)
    .option("--size <size>", "message size, e.g. 128, 1KiB", parseSize, 128)
    .option(
      "--clients <n>",
      defaults.clients ?? "concurrent clients, each with its own connection",
      parsePositive,
      1,
    )
    .option("--no-progress", "no progress bar")
    .option("--json", "print the results as JSON");
}

function stopper(): { stopped: boolean } {
  const s = { stopped: false };
  void interrupted().then(() => {
    s.stopped = true;
  });
  return s;
}

function details(subject: string, o: BenchOptions, extra = ""): string {
  return `subject "${subject}", ${humanCount(o.msgs)} msgs of ${humanBytes(o.size)}, ${o.clients} client${o.clients === 1 ? "" : "s"}${extra}`;
}

// ---------------------------------------------------------------- core NATS

async function benchPub(subject: string, o: BenchOptions, cmd: Command): Promise<void> {
  const { conns } = await connectMany(cmd, o.clients, "pub");
  const stop = stopper();
  const meter = new Meter(o.msgs, "pub", o.progress);
  const runs = conns.map((_, i) => new ClientRun(`pub #${i + 1}`, false));
  try {
    const counts = shares(o.msgs, o.clients);
    await Promise.all(conns.map((nc, i) => publisher(nc, subject, counts[i], o.size, runs[i], meter, stop)));
  } finally {
    meter.stop();
    await closeAll(conns);
  }
  report("NATS publish", details(subject, o), [{ title: "Publishers", runs }], o);
}

async function benchSub(subject: string, o: BenchOptions, cmd: Command): Promise<void> {
  const { conns } = await connectMany(cmd, o.clients, "sub");
  const stop = stopper();
  const meter = new Meter(o.msgs * o.clients, "sub", o.progress);
  const runs = conns.map((_, i) => new ClientRun(`sub #${i + 1}`, true));
  try {
    const subs = conns.map((nc, i) => subscriber(nc, subject, o.msgs, runs[i], meter, stop));
    await Promise.all(subs.map((s) => s.ready));
    note(
      `Waiting for ${humanCount(o.msgs)} messages on "${subject}" with ${o.clients} subscriber${o.clients === 1 ? "" : "s"}`,
    );
    await Promise.all(subs.map((s) => s.done));
  } finally {
    meter.stop();
    await closeAll(conns);
  }
  if (runs.every((r) => r.msgs === 0)) throw new CliError("no messages received", Exit.FAILED);
  report("NATS subscribe", details(subject, o), [{ title: "Subscribers", runs }], o);
}

async function benchPubSub(subject: string, o: BenchOptions & { subs: number }, cmd: Command): Promise<void> {
  const pubs = await connectMany(cmd, o.clients, "pub");
  const subsConn = await connectMany(cmd, o.subs, "sub").catch(async (e) => {
    await closeAll(pubs.conns);
    throw e;
  });
  const stop = stopper();
  const meter = new Meter(o.msgs * (1 + o.subs), "pubsub", o.progress);
  const pubRuns = pubs.conns.map((_, i) => new ClientRun(`pub #${i + 1}`, false));
  const subRuns = subsConn.conns.map((_, i) => new ClientRun(`sub #${i + 1}`, true));
  try {
    const subs = subsConn.conns.map((nc, i) => subscriber(nc, subject, o.msgs, subRuns[i], meter, stop));
    await Promise.all(subs.map((s) => s.ready));
    const counts = shares(o.msgs, o.clients);
    await Promise.all(
      pubs.conns.map((nc, i) => publisher(nc, subject, counts[i], o.size, pubRuns[i], meter, stop)),
    );
    await Promise.race([Promise.all(subs.map((s) => s.done)), drainTimeout(subRuns, stop)]);
  } finally {
    meter.stop();
    await closeAll([...pubs.conns, ...subsConn.conns]);
  }
  report(
    "NATS publish/subscribe",
    details(subject, o, `, ${o.subs} subscriber${o.subs === 1 ? "" : "s"}`),
    [
      { title: "Publishers", runs: pubRuns },
      { title: "Subscribers", runs: subRuns },
    ],
    o,
  );
  const lost = subRuns.reduce((a, r) => a + (o.msgs - r.msgs), 0);
  if (lost > 0)
    note(
      color.yellow(
        `warning: subscribers missed ${humanCount(lost)} messages (slow consumers?)`,
        process.stderr,
      ),
    );
}

/** Stop waiting for subscribers once nothing has arrived for 5s (lost messages must not hang the bench). */
async function drainTimeout(runs: ClientRun[], stop: { stopped: boolean }): Promise<void> {
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    const total = runs.reduce((a, r) => a + r.msgs, 0);
    if (total === last || stop.stopped) {
      stop.stopped = true;
      return;
    }
    last = total;
  }
}

async function benchReq(
  subject: string,
  o: BenchOptions & { responders: number },
  cmd: Command,
): Promise<void> {
  const reqs = await connectMany(cmd, o.clients, "requester");
  const resp = await connectMany(cmd, o.responders, "responder").catch(async (e) => {
    await closeAll(reqs.conns);
    throw e;
  });
  const stop = stopper();
  const meter = new Meter(o.msgs, "req", o.progress);
  const runs = reqs.conns.map((_, i) => new ClientRun(`requester #${i + 1}`, true));
  try {
    for (const nc of resp.conns) {
      nc.subscribe(subject, {
        queue: "lattice-bench",
        callback: (_e, m) => {
          m.respond(m.data);
        },
      });
      await nc.flush();
    }
    const counts = shares(o.msgs, o.clients);
    const body = payload(o.size);
    await Promise.all(
      reqs.conns.map(async (nc, i) => {
        const run = runs[i];
        run.begin();
        for (let n = 0; n < counts[i] && !stop.stopped; n++) {
          const t = performance.now();
          await nc.request(subject, body, { timeout: reqs.conn.timeoutMs });
          run.record(performance.now() - t);
          run.msgs++;
          run.bytes += o.size;
          meter.done++;
        }
        run.finish();
      }),
    );
  } finally {
    meter.stop();
    await closeAll([...reqs.conns, ...resp.conns]);
  }
  report(
    "NATS request/reply",
    details(
      subject,
      o,
      o.responders > 0
        ? `, ${o.responders} built-in responder${o.responders === 1 ? "" : "s"}`
        : ", external responders",
    ),
    [{ title: "Requesters", runs }],
    o,
  );
}

// ---------------------------------------------------------------- JetStream

interface JsBenchOptions extends BenchOptions {
  stream: string;
  storage: string;
  batch: number;
  purge?: boolean;
  cleanup?: boolean;
}

/** Make sure the bench stream exists; true when this run created it. */
async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subject: string,
  storage: string,
): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return false;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
  }
  await jsm.streams.add({
    name,
    subjects: [subject],
    storage: storage === "memory" ? StorageType.Memory : StorageType.File,
  });
  return true;
}

async function withJs<T>(cmd: Command, fn: (s: Session) => Promise<T>): Promise<T> {
  const conn = resolveConnection(cmd);
  const s = new Session(await connectWith(conn, `${commandName(cmd)} setup`), conn, false);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

async function jsPublish(
  js: JetStreamClient,
  subject: string,
  count: number,
  size: number,
  window: number,
  run: ClientRun,
  meter: Meter,
  stop: { stopped: boolean },
): Promise<void> {
  const body = payload(size);
  run.begin();
  let sent = 0;
  while (sent < count && !stop.stopped) {
    const n = Math.min(window, count - sent);
    const batch: Promise<PubAck>[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      batch.push(
        js.publish(subject, body).then((ack) => {
          run.record(performance.now() - t);
          run.msgs++;
          run.bytes += size;
          meter.done++;
          return ack;
        }),
      );
    }
    await Promise.all(batch);
    sent += n;
  }
  run.finish();
}

async function benchJsPub(subject: string, o: JsBenchOptions, cmd: Command): Promise<void> {
  const created = await withJs(cmd, async (s) => {
    const jsm = await s.jsm();
    const made = await ensureStream(jsm, o.stream, subject, o.storage);
    if (o.purge && !made) await jsm.streams.purge(o.stream);
    return made;
  });
  const { conns, conn } = await connectMany(cmd, o.clients, "js pub");
  const stop = stopper();
  const meter = new Meter(o.msgs, "js pub", o.progress);
  const runs = conns.map((_, i) => new ClientRun(`pub #${i + 1}`, true));
  try {
    const counts = shares(o.msgs, o.clients);
    await Promise.all(
      conns.map((nc, i) =>
        jsPublish(
          jetstream(nc, { timeout: conn.timeoutMs, domain: conn.jsDomain }),
          subject,
          counts[i],
          o.size,
          o.batch,
          runs[i],
          meter,
          stop,
        ),
      ),
    );
  } finally {
    meter.stop();
    await closeAll(conns);
  }
  if (o.cleanup) await withJs(cmd, async (s) => (await s.jsm()).streams.delete(o.stream));
  report(
    "JetStream publish",
    details(
      subject,
      o,
      `, stream ${o.stream}${created ? " (created)" : ""}, ${o.storage} storage, ${o.batch} in flight per client`,
    ),
    [{ title: "Publishers", runs }],
    o,
  );
}

async function benchJsFetch(
  subject: string,
  o: JsBenchOptions & { consumer: string },
  cmd: Command,
): Promise<void> {
  const stop = stopper();
  const created = await withJs(cmd, async (s) => {
    const jsm = await s.jsm();
    const made = await ensureStream(jsm, o.stream, subject, o.storage);
    const have = (await jsm.streams.info(o.stream)).state.messages;
    if (have < o.msgs) {
      // Not enough messages to fetch: publish the difference first (not measured).
      const fill = new Meter(o.msgs - have, "fill", o.progress);
      const js = await s.js();
      await jsPublish(js, subject, o.msgs - have, o.size, 500, new ClientRun("fill", false), fill, stop);
      fill.stop();
    }
    return made;
  });
  const cleanup = () =>
    withJs(cmd, async (s) => {
      const jsm = await s.jsm();
      await jsm.consumers.delete(o.stream, o.consumer).catch(() => {});
      if (o.cleanup) await jsm.streams.delete(o.stream).catch(() => {});
    });
  try {
    await withJs(cmd, async (s) =>
      (await s.jsm()).consumers.add(o.stream, {
        durable_name: o.consumer,
        ack_policy: AckPolicy.Explicit,
        filter_subject: subject,
        max_ack_pending: -1,
      }),
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const meter = new Meter(o.msgs, "js fetch", o.progress);
  let conns: NatsConnection[] = [];
  const runs: ClientRun[] = [];
  let fetched = 0;
  try {
    const many = await connectMany(cmd, o.clients, "js fetch");
    conns = many.conns;
    const conn = many.conn;
    runs.push(...conns.map((_, i) => new ClientRun(`fetch #${i + 1}`, true)));
    await Promise.all(
      conns.map(async (nc, i) => {
        const js = jetstream(nc, { timeout: conn.timeoutMs, domain: conn.jsDomain });
        const c = await js.consumers.get(o.stream, o.consumer);
        const run = runs[i];
        run.begin();
        while (fetched < o.msgs && !stop.stopped) {
          const want = Math.min(o.batch, o.msgs - fetched);
          const t = performance.now();
          const iter = await c.fetch({ max_messages: want, expires: 1000 });
          let got = 0;
          const acks: JsMsg[] = [];
          for await (const m of iter) {
            got++;
            run.bytes += m.data.length;
            acks.push(m);
          }
          if (got === 0) break;
          run.record(performance.now() - t);
          for (const m of acks) m.ack();
          run.msgs += got;
          fetched += got;
          meter.done += got;
        }
        await nc.flush();
        run.finish();
      }),
    );
  } finally {
    meter.stop();
    await closeAll(conns);
    await cleanup();
  }
  report(
    "JetStream fetch",
    details(subject, o, `, stream ${o.stream}${created ? " (created)" : ""}, batches of ${o.batch}`),
    [{ title: "Fetchers", runs }],
    o,
  );
}

// ---------------------------------------------------------------- KV

interface KvBenchOptions extends BenchOptions {
  bucket: string;
  keys: number;
  storage: string;
  cleanup?: boolean;
}

async function ensureBucket(s: Session, o: KvBenchOptions): Promise<{ created: boolean }> {
  const jsm = await s.jsm();
  try {
    await jsm.streams.info(`KV_${o.bucket}`);
    return { created: false };
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
  }
  const kvm = await s.kvm();
  await kvm.create(o.bucket, {
    history: 1,
    storage: o.storage === "memory" ? StorageType.Memory : StorageType.File,
  });
  return { created: true };
}

async function openKv(nc: NatsConnection, conn: ResolvedConnection, bucket: string): Promise<KV> {
  const jsm = await jetstreamManager(nc, { timeout: conn.timeoutMs, domain: conn.jsDomain });
  const si = await jsm.streams.info(`KV_${bucket}`);
  return new Kvm(jsm.jetstream()).open(bucket, { allow_direct: si.config.allow_direct === true });
}

async function benchKv(op: "put" | "get", o: KvBenchOptions, cmd: Command): Promise<void> {
  const stop = stopper();
  const created = await withJs(cmd, async (s) => {
    const { created } = await ensureBucket(s, o);
    if (op === "get") {
      // Every key must hold a value before reads are timed.
      const kv = await openKv(s.nc, s.conn, o.bucket);
      const body = payload(o.size);
      const fill = new Meter(o.keys, "fill", o.progress);
      const missing: number[] = [];
      for (let k = 0; k < o.keys; k++) {
        if (created || (await kv.get(`k${k}`)) === null) missing.push(k);
      }
      for (let i = 0; i < missing.length; i += 100) {
        await Promise.all(missing.slice(i, i + 100).map((k) => kv.put(`k${k}`, body)));
        fill.done += Math.min(100, missing.length - i);
      }
      fill.stop();
    }
    return created;
  });
  const { conns, conn } = await connectMany(cmd, o.clients, `kv ${op}`);
  const meter = new Meter(o.msgs, `kv ${op}`, o.progress);
  const runs = conns.map((_, i) => new ClientRun(`${op} #${i + 1}`, true));
  try {
    const counts = shares(o.msgs, o.clients);
    await Promise.all(
      conns.map(async (nc, i) => {
        const kv = await openKv(nc, conn, o.bucket);
        const body = payload(o.size);
        const run = runs[i];
        run.begin();
        for (let n = 0; n < counts[i] && !stop.stopped; n++) {
          const key = `k${(n * o.clients + i) % o.keys}`;
          const t = performance.now();
          if (op === "put") {
            await kv.put(key, body);
            run.bytes += o.size;
          } else {
            const e = await kv.get(key);
            if (e === null)
              throw new CliError(`key ${key} vanished from bucket ${o.bucket} during the benchmark`);
            run.bytes += e.length;
          }
          run.record(performance.now() - t);
          run.msgs++;
          meter.done++;
        }
        run.finish();
      }),
    );
  } finally {
    meter.stop();
    await closeAll(conns);
  }
  if (o.cleanup) await withJs(cmd, async (s) => (await s.jsm()).streams.delete(`KV_${o.bucket}`));
  report(
    `KV ${op}`,
    `bucket ${o.bucket}${created ? " (created)" : ""}, ${humanCount(o.msgs)} ops, ${humanCount(o.keys)} keys, values of ${humanBytes(o.size)}, ${o.clients} client${o.clients === 1 ? "" : "s"}`,
    [{ title: op === "put" ? "Writers" : "Readers", runs }],
    o,
  );
}

// ---------------------------------------------------------------- commands

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("benchmarks: pub, sub, pubsub, req, js pub, js fetch, kv put, kv get");
  examples(
    bench,
    "lattice bench pubsub bench.subject --msgs 1000000 --size 128 --clients 2 --subs 2",
    "lattice bench js pub bench.js --msgs 100000 --storage memory",
    "lattice bench kv get --msgs 10000",
  );

  const pub = benchOptions(
    bench.command("pub").description("publish as fast as possible").argument("<subject>", "subject"),
    {
      clients: "concurrent publishers",
    },
  ).action(action(async (subject: string, o: BenchOptions, cmd: Command) => benchPub(subject, o, cmd)));
  examples(pub, "lattice bench pub bench.test --msgs 1000000 --size 256 --clients 4");

  const sub = benchOptions(
    bench
      .command("sub")
      .description("receive messages from publishers elsewhere (e.g. lattice bench pub)")
      .argument("<subject>", "subject"),
    { clients: "concurrent subscribers (each receives every message)" },
  ).action(action(async (subject: string, o: BenchOptions, cmd: Command) => benchSub(subject, o, cmd)));
  examples(
    sub,
    "lattice bench sub bench.test --msgs 1000000 --clients 2   # then: lattice bench pub bench.test --msgs 1000000",
  );

  const pubsub = benchOptions(
    bench
      .command("pubsub")
      .description("publishers and subscribers in one run; end-to-end latency")
      .argument("<subject>", "subject"),
    { clients: "concurrent publishers" },
  )
    .option("--subs <n>", "subscribers (each receives every message)", parsePositive, 1)
    .action(
      action(async (subject: string, o: BenchOptions & { subs: number }, cmd: Command) =>
        benchPubSub(subject, o, cmd),
      ),
    );
  examples(pubsub, "lattice bench pubsub bench.test --msgs 100000 --clients 2 --subs 2");

  const req = benchOptions(
    bench
      .command("req")
      .alias("request")
      .description("request/reply round trips")
      .argument("<subject>", "subject"),
    { msgs: 10_000, clients: "concurrent requesters (each waits for its reply)" },
  )
    .option(
      "--responders <n>",
      "built-in responders to start (0: use responders running elsewhere)",
      parseNonNegative,
      1,
    )
    .action(
      action(async (subject: string, o: BenchOptions & { responders: number }, cmd: Command) =>
        benchReq(subject, o, cmd),
      ),
    );
  examples(
    req,
    "lattice bench req bench.service --msgs 10000 --clients 4",
    "lattice bench req service.echo --responders 0   # with: lattice reply service.echo --echo",
  );

  const js = bench.command("js").description("JetStream benchmarks: pub, fetch");
  examples(
    js,
    "lattice bench js pub bench.js --msgs 100000",
    "lattice bench js fetch bench.js --msgs 100000 --batch 500",
  );
  const jsOptions = (c: Command) =>
    c
      .option("--stream <name>", "stream to use (created for the subject when missing)", "benchstream")
      .addOption(
        new Option("--storage <type>", "storage for a created stream")
          .choices(["file", "memory"])
          .default("file"),
      )
      .option("--cleanup", "delete the stream afterwards");
  const jsPub = jsOptions(
    benchOptions(
      js
        .command("pub")
        .description("publish to a stream, waiting for acknowledgements")
        .argument("<subject>", "subject"),
      {
        msgs: 10_000,
        clients: "concurrent publishers",
      },
    ),
  )
    .option("--batch <n>", "publishes in flight per client", parsePositive, 100)
    .option("--purge", "purge the stream first")
    .action(action(async (subject: string, o: JsBenchOptions, cmd: Command) => benchJsPub(subject, o, cmd)));
  examples(jsPub, "lattice bench js pub bench.js --msgs 100000 --storage memory --batch 500 --cleanup");

  const jsFetch = jsOptions(
    benchOptions(
      js
        .command("fetch")
        .description("fetch from a durable pull consumer (fills the stream first if needed)")
        .argument("<subject>", "subject"),
      {
        msgs: 10_000,
        clients: "concurrent fetchers sharing the consumer",
      },
    ),
  )
    .option("--batch <n>", "messages per fetch", parsePositive, 100)
    .option("--consumer <name>", "durable consumer to create (deleted afterwards)", "benchconsumer")
    .action(
      action(async (subject: string, o: JsBenchOptions & { consumer: string }, cmd: Command) =>
        benchJsFetch(subject, o, cmd),
      ),
    );
  examples(jsFetch, "lattice bench js fetch bench.js --msgs 100000 --batch 1000");

  const kv = bench.command("kv").description("key-value benchmarks: put, get");
  examples(kv, "lattice bench kv put --msgs 10000", "lattice bench kv get --msgs 10000 --keys 100");
  const kvOptions = (c: Command) =>
    c
      .option("--bucket <name>", "bucket to use (created when missing)", "benchbucket")
      .option("--keys <n>", "distinct keys", parsePositive, 100)
      .addOption(
        new Option("--storage <type>", "storage for a created bucket")
          .choices(["file", "memory"])
          .default("file"),
      )
      .option("--cleanup", "delete the bucket afterwards");
  const kvPut = kvOptions(
    benchOptions(kv.command("put").description("write values"), {
      msgs: 10_000,
      clients: "concurrent writers",
    }),
  ).action(action(async (o: KvBenchOptions, cmd: Command) => benchKv("put", o, cmd)));
  examples(kvPut, "lattice bench kv put --msgs 10000 --size 1KiB --clients 2");
  const kvGet = kvOptions(
    benchOptions(kv.command("get").description("read values (writes the keys first if needed)"), {
      msgs: 10_000,
      clients: "concurrent readers",
    }),
  ).action(action(async (o: KvBenchOptions, cmd: Command) => benchKv("get", o, cmd)));
  examples(kvGet, "lattice bench kv get --msgs 10000 --keys 100 --clients 4");
}
