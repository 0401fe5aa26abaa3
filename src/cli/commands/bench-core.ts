// lattice bench pub|sub|pubsub|req: core NATS load generators.

import type { Command } from "commander";
import { CliError, Exit } from "../errors.js";
import { color, humanCount, note } from "../output.js";
import {
  type BenchOptions,
  ClientRun,
  closeAll,
  connectMany,
  details,
  Meter,
  payload,
  publisher,
  report,
  shares,
  stopper,
  subscriber,
} from "./bench-measure.js";

// ---------------------------------------------------------------- core NATS

export async function benchPub(subject: string, o: BenchOptions, cmd: Command): Promise<void> {
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

export async function benchSub(subject: string, o: BenchOptions, cmd: Command): Promise<void> {
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

export async function benchPubSub(
  subject: string,
  o: BenchOptions & { subs: number },
  cmd: Command,
): Promise<void> {
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
export async function drainTimeout(runs: ClientRun[], stop: { stopped: boolean }): Promise<void> {
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

export async function benchReq(
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
