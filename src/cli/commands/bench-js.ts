// lattice bench js pub|js fetch|kv put|kv get: JetStream and key-value load generators.

import type { JetStreamClient, JetStreamManager, JsMsg, PubAck } from "@nats-io/jetstream";
import { AckPolicy, JetStreamApiError, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Command } from "commander";
import {
  commandName,
  connectWith,
  type ResolvedConnection,
  resolveConnection,
  Session,
} from "../connect-options.js";
import { CliError } from "../errors.js";
import { humanBytes, humanCount } from "../output.js";
import {
  type BenchOptions,
  ClientRun,
  closeAll,
  connectMany,
  details,
  Meter,
  payload,
  report,
  shares,
  stopper,
} from "./bench-measure.js";

// ---------------------------------------------------------------- JetStream

export interface JsBenchOptions extends BenchOptions {
  stream: string;
  storage: string;
  batch: number;
  purge?: boolean;
  cleanup?: boolean;
}

/** Make sure the bench stream exists; true when this run created it. */
export async function ensureStream(
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

export async function withJs<T>(cmd: Command, fn: (s: Session) => Promise<T>): Promise<T> {
  const conn = resolveConnection(cmd);
  const s = new Session(await connectWith(conn, `${commandName(cmd)} setup`), conn, false);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export async function jsPublish(
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

export async function benchJsPub(subject: string, o: JsBenchOptions, cmd: Command): Promise<void> {
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

export async function benchJsFetch(
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

export interface KvBenchOptions extends BenchOptions {
  bucket: string;
  keys: number;
  storage: string;
  cleanup?: boolean;
}

export async function ensureBucket(s: Session, o: KvBenchOptions): Promise<{ created: boolean }> {
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

export async function openKv(nc: NatsConnection, conn: ResolvedConnection, bucket: string): Promise<KV> {
  const jsm = await jetstreamManager(nc, { timeout: conn.timeoutMs, domain: conn.jsDomain });
  const si = await jsm.streams.info(`KV_${bucket}`);
  return new Kvm(jsm.jetstream()).open(bucket, { allow_direct: si.config.allow_direct === true });
}

export async function benchKv(op: "put" | "get", o: KvBenchOptions, cmd: Command): Promise<void> {
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
