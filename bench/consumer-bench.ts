// Consumer and KV scenarios for `npm run bench`, through the official clients (@nats-io/jetstream,
// @nats-io/kv) against a fresh `-js` process of each server (the same client code on both sides, so the
// ratio compares the servers):
//   fetch+ack  — a durable pull consumer drains a pre-filled stream with fetch(batch 500), acking each
//   push       — a push consumer (ack none, flow control + heartbeats) drains the same stream
//   kv-put     — puts with a window in flight, over a set of keys
//   kv-get     — gets (direct get) with a window in flight
//   kv-watch   — a watcher (updates only) follows N puts; the clock runs from the first put until the
//                watcher has seen the last one. Puts cycle over 1000 keys, so an update replaced before the
//                watcher got it is skipped, as KV watchers do on any server; how many is reported.
//   many-consumers — 1,000 durable pull consumers on one stream, ten per filter subject (a fleet of hosts
//                each watching its own keys): how long creating them takes, then async publishes over the
//                100 subjects, which must cost in proportion to the consumers a subject concerns.
// Each scenario is checked: every message is counted once, the consumer ends with nothing pending.
// Besides the rate, the server's CPU time over the measured part is read from /proc, and the rate per
// server CPU-second is compared too: it stays meaningful when other processes compete for the cores.

import { performance } from "node:perf_hooks";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import { jsLaunch, makeStoreDir, removeStoreDir, startJsServer } from "./js-servers.js";
import { CONSUMER_SCENARIO_IDS, type ConsumerScenarioId, type ServerKey } from "./options.js";
import { fmtRate, median } from "./report.js";
import { cpuSeconds, type ManagedProcess, shuttingDown, stopProcess } from "./servers.js";

export const CONSUMER_SCENARIOS = CONSUMER_SCENARIO_IDS;
export type ConsumerScenario = ConsumerScenarioId;

export interface ConsumerBenchOptions {
  /** Messages in the stream the consumers drain. */
  messages: number;
  /** KV operations (puts, gets, watched updates). */
  kvOps: number;
  repeat: number;
  /** Which scenarios to run (default: all). */
  scenarios?: readonly ConsumerScenario[];
}

export const DEFAULT_CONSUMER_BENCH: ConsumerBenchOptions = { messages: 200_000, kvOps: 100_000, repeat: 1 };

const PAYLOAD = new Uint8Array(128).fill(97);

/** CPU seconds so far: the server's (null when unknown) and this bench process's, where the client runs. */
interface CpuMark {
  server: number | null;
  client: number;
}
type CpuClock = () => CpuMark;

function clientCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Measured {
  rate: number;
  /** Operations per second of server CPU over the measured part. */
  perCpu: number | null;
  /** Share of one core the client process used over the measured part (1 = saturated). */
  clientBusy: number;
  /** kv-watch: updates the watcher never saw because a newer value of the key replaced them first. */
  skipped?: number;
  /** Anything else the scenario measured, for the log line. */
  note?: string;
}

/** No progress for this long fails the run instead of hanging the whole bench. */
const STALL_MS = 15_000;

/** Resolves when `done` does; rejects once `progress()` has not changed for STALL_MS. */
function guardStall<T>(done: Promise<T>, progress: () => number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last = progress();
    let since = performance.now();
    const timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = performance.now();
      } else if (performance.now() - since > STALL_MS) {
        clearInterval(timer);
        reject(new Error(`${what} stalled at ${now}`));
      }
    }, 250);
    done.then(
      (v) => {
        clearInterval(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearInterval(timer);
        reject(err);
      },
    );
  });
}

function measured(ops: number, t0: number, cpu: CpuClock, c0: CpuMark): Measured {
  const secs = (performance.now() - t0) / 1000;
  const c1 = cpu();
  const used = c0.server !== null && c1.server !== null ? c1.server - c0.server : null;
  return {
    rate: ops / secs,
    perCpu: used !== null && used > 0 ? ops / used : null,
    clientBusy: (c1.client - c0.client) / secs,
  };
}
const WINDOW = 1000;
/** A client this busy (share of one core) is the bottleneck of a run. */
const CLIENT_BOUND = 0.95;
/** Size of the warm-up run before each measured one, as a share of it. */
const WARMUP_SHARE = 0.1;

async function fill(nc: NatsConnection, stream: string, subject: string, n: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject] });
  const js = jetstream(nc);
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    inflight.push(js.publish(subject, PAYLOAD));
    if (inflight.length >= WINDOW) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
}

async function fetchAck(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const stream = `BFETCH${tag}`;
  await fill(nc, stream, `bench.fetch${tag}`, n);
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, {
    durable_name: "fa",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: -1,
  });
  const c = await jetstream(nc).consumers.get(stream, "fa");
  let got = 0;
  const t0 = performance.now();
  const c0 = cpu();
  while (got < n) {
    const iter = await c.fetch({ max_messages: 500, expires: 5000 });
    let batch = 0;
    for await (const m of iter) {
      m.ack();
      batch++;
    }
    if (batch === 0) throw new Error(`fetch stalled at ${got} of ${n}`);
    got += batch;
  }
  await nc.flush();
  const m = measured(n, t0, cpu, c0);
  const ci = await jsm.consumers.info(stream, "fa");
  if (ci.num_pending !== 0 || ci.delivered.stream_seq !== n) {
    throw new Error(
      `consumer state after fetch: pending ${ci.num_pending}, delivered ${ci.delivered.stream_seq}`,
    );
  }
  return m;
}

async function push(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const stream = `BPUSH${tag}`;
  await fill(nc, stream, `bench.push${tag}`, n);
  const jsm = await jetstreamManager(nc);
  const inbox = createInbox();
  let got = 0;
  let t0 = 0;
  const done = new Promise<void>((resolve) => {
    nc.subscribe(inbox, {
      callback: (_e, m) => {
        if (m.headers?.code === 100) {
          if (m.reply) m.respond();
          return;
        }
        if (got === 0) t0 = performance.now();
        if (++got === n) resolve();
      },
    });
  });
  const start = performance.now();
  const c0 = cpu();
  await jsm.consumers.add(stream, {
    name: "p",
    deliver_subject: inbox,
    ack_policy: AckPolicy.None,
    flow_control: true,
    idle_heartbeat: 5_000_000_000,
  });
  await guardStall(done, () => got, "push delivery");
  return measured(n, Math.min(t0 || start, start), cpu, c0);
}

async function kvPut(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const kv = await new Kvm(nc).create(`BKVPUT${tag}`);
  const t0 = performance.now();
  const c0 = cpu();
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    inflight.push(kv.put(`k${i % 1000}`, PAYLOAD));
    if (inflight.length >= WINDOW) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  return measured(n, t0, cpu, c0);
}

async function kvGet(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const kv = await new Kvm(nc).create(`BKVGET${tag}`);
  const keys = 1000;
  await Promise.all(Array.from({ length: keys }, (_, i) => kv.put(`k${i}`, PAYLOAD)));
  const t0 = performance.now();
  const c0 = cpu();
  let inflight: Promise<unknown>[] = [];
  let missing = 0;
  for (let i = 0; i < n; i++) {
    inflight.push(
      kv.get(`k${i % keys}`).then((e) => {
        if (e === null) missing++;
      }),
    );
    if (inflight.length >= WINDOW) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  if (missing > 0) throw new Error(`${missing} gets found nothing`);
  return measured(n, t0, cpu, c0);
}

const FLEET_CONSUMERS = 1000;
const FLEET_PER_SUBJECT = 10;

async function manyConsumers(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const jsm = await jetstreamManager(nc);
  const stream = `FLEET${tag}`;
  const prefix = `fleet${tag}`;
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
  const subjects = FLEET_CONSUMERS / FLEET_PER_SUBJECT;
  const tc = performance.now();
  let creating: Promise<unknown>[] = [];
  for (let i = 0; i < FLEET_CONSUMERS; i++) {
    creating.push(
      jsm.consumers.add(stream, {
        durable_name: `h${i}`,
        ack_policy: AckPolicy.Explicit,
        filter_subject: `${prefix}.s${Math.floor(i / FLEET_PER_SUBJECT)}`,
      }),
    );
    if (creating.length >= 100) {
      await Promise.all(creating);
      creating = [];
    }
  }
  await Promise.all(creating);
  const createSeconds = (performance.now() - tc) / 1000;
  const js = jetstream(nc);
  const t0 = performance.now();
  const c0 = cpu();
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    inflight.push(js.publish(`${prefix}.s${i % subjects}`, PAYLOAD));
    if (inflight.length >= WINDOW) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  const m = measured(n, t0, cpu, c0);
  await jsm.streams.delete(stream);
  return { ...m, note: `${FLEET_CONSUMERS} consumers created in ${createSeconds.toFixed(2)} s` };
}

async function kvWatch(nc: NatsConnection, n: number, cpu: CpuClock, tag: string): Promise<Measured> {
  const kv = await new Kvm(nc).create(`BKVWATCH${tag}`);
  const w = await kv.watch({ include: "updates" as never });
  let seen = 0;
  // Revisions are stream sequences: the n-th put is revision n.
  const done = (async () => {
    for await (const e of w) {
      seen++;
      if (e.revision >= n) break;
    }
  })();
  const t0 = performance.now();
  const c0 = cpu();
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    inflight.push(kv.put(`k${i % 1000}`, PAYLOAD));
    if (inflight.length >= WINDOW) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  await guardStall(done, () => seen, "kv watcher");
  return { ...measured(n, t0, cpu, c0), skipped: n - seen };
}

type Outcome =
  | { ok: true; rate: number; perCpu: number | null; clientBusy: number; skipped?: number; note?: string }
  | { ok: false; error: string };

async function runOne(
  key: ServerKey,
  id: ConsumerScenario,
  o: ConsumerBenchOptions,
  cpus: string | null,
): Promise<Outcome> {
  const l = jsLaunch(key, cpus);
  if (typeof l === "string") return { ok: false, error: l };
  const dir = makeStoreDir(null, key);
  let proc: ManagedProcess | undefined;
  try {
    proc = await startJsServer(l, dir);
    const nc = await connect({ servers: `127.0.0.1:${proc.port}`, timeout: 20_000 });
    const pid = proc.pid;
    const cpu: CpuClock = () => ({ server: cpuSeconds(pid), client: clientCpuSeconds() });
    try {
      const run = (scale: number, tag: string): Promise<Measured> => {
        const msgs = Math.max(1000, Math.round(o.messages * scale));
        const ops = Math.max(1000, Math.round(o.kvOps * scale));
        return id === "fetch+ack"
          ? fetchAck(nc, msgs, cpu, tag)
          : id === "push"
            ? push(nc, msgs, cpu, tag)
            : id === "kv-put"
              ? kvPut(nc, ops, cpu, tag)
              : id === "kv-get"
                ? kvGet(nc, ops, cpu, tag)
                : id === "many-consumers"
                  ? manyConsumers(nc, ops, cpu, tag)
                  : kvWatch(nc, ops, cpu, tag);
      };
      // A warm-up run of a tenth of the size on its own stream or bucket, as the core scenarios have:
      // the measured run then compares steady states (a JIT-compiled server starts cold).
      await run(WARMUP_SHARE, "W");
      const m = await run(1, "");
      return {
        ok: true,
        rate: m.rate,
        perCpu: m.perCpu,
        clientBusy: m.clientBusy,
        skipped: m.skipped,
        note: m.note,
      };
    } finally {
      await nc.close().catch(() => {});
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    if (proc) await stopProcess(proc, 10_000);
    removeStoreDir(dir);
  }
}

const UNIT: Record<ConsumerScenario, string> = {
  "fetch+ack": "msgs/s",
  push: "msgs/s",
  "kv-put": "puts/s",
  "kv-get": "gets/s",
  "kv-watch": "updates/s",
  "many-consumers": "msgs/s",
};

/** Run every scenario on each server (fresh process each) and render the side-by-side table. */
export async function runConsumerBench(
  keys: ServerKey[],
  cpus: string | null,
  o: ConsumerBenchOptions,
  log: (m: string) => void,
): Promise<string> {
  log(
    `\nConsumers and KV (official clients, ${o.messages} msgs of ${PAYLOAD.length} B per consumer run, ` +
      `${o.kvOps} KV ops, window ${WINDOW})`,
  );
  const rows: string[][] = [];
  for (const id of o.scenarios ?? CONSUMER_SCENARIOS) {
    const results = new Map<ServerKey, Outcome[]>();
    for (let r = 0; r < o.repeat; r++) {
      for (const key of r % 2 === 0 ? keys : [...keys].reverse()) {
        if (shuttingDown()) return "";
        const out = await runOne(key, id, o, cpus);
        const perCpu = out.ok && out.perCpu !== null ? ` (${fmtRate(out.perCpu)} per server CPU-s)` : "";
        const skipped =
          out.ok && out.skipped !== undefined
            ? `, ${out.skipped} updates replaced before the watcher saw them`
            : "";
        const client = out.ok ? `, client at ${Math.round(out.clientBusy * 100)}% of a core` : "";
        const note = out.ok && out.note !== undefined ? `, ${out.note}` : "";
        log(
          `  [${id}] ${key}: ${out.ok ? `${fmtRate(out.rate)} ${UNIT[id]}${perCpu}${client}${skipped}${note}` : `ERROR ${out.error}`}`,
        );
        results.set(key, [...(results.get(key) ?? []), out]);
      }
    }
    const pick = (k: ServerKey): Outcome | undefined => {
      const list = results.get(k) ?? [];
      const good = list.filter((x): x is Extract<Outcome, { ok: true }> => x.ok);
      return good.length > 0 ? median(good, (x) => x.rate) : list[0];
    };
    const lat = pick("lattice");
    const ref = pick("nats");
    const fmt = (x: Outcome | undefined) => (x === undefined ? "-" : x.ok ? fmtRate(x.rate) : "ERROR");
    const ratio = lat?.ok && ref?.ok ? lat.rate / ref.rate : null;
    const cpuRatio =
      lat?.ok && ref?.ok && lat.perCpu !== null && ref.perCpu !== null ? lat.perCpu / ref.perCpu : null;
    const busy = (x: Outcome | undefined) => (x?.ok ? `${Math.round(x.clientBusy * 100)}%` : "-");
    // With the one client process saturated against both servers, the rate measures the client.
    const clientBound =
      lat?.ok && ref?.ok && lat.clientBusy >= CLIENT_BOUND && ref.clientBusy >= CLIENT_BOUND;
    rows.push([
      `${id} (${UNIT[id]})`,
      fmt(lat),
      fmt(ref),
      ratio === null ? "-" : `${ratio.toFixed(2)}x`,
      cpuRatio === null ? "-" : `${cpuRatio.toFixed(2)}x`,
      `${busy(lat)} / ${busy(ref)}`,
      ">= 1.00x",
      ratio === null ? "-" : ratio >= 1 ? "PASS" : clientBound ? "MISS (client-bound)" : "MISS",
    ]);
  }
  const header = [
    "metric",
    "Lattice",
    "nats-server",
    "ratio",
    "ratio per server CPU-s",
    "client CPU (L / N)",
    "target",
    "result",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [
    "\nConsumers and KV — official clients, file storage",
    line(header),
    ...rows.map(line),
    "client CPU: the bench process (all official-client work) as a share of one core during the measured part;",
    `at >= ${CLIENT_BOUND * 100}% against both servers the rate is the client's limit, and the per-CPU ratio compares the servers.`,
  ].join("\n");
}
