// JetStream for operator-mode accounts: the account JWT's JetStream limits enable it and are enforced with
// nats-server's errors, claim updates change them live, and accounts without them answer 10039. The limit
// scenario also runs against the reference nats-server 2.9.10 when installed.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { OPEN_LIMITS, Operator, type TestAccount, user } from "../auth/jwt-fixtures.js";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";

// biome-ignore lint/suspicious/noExplicitAny: API replies are arbitrary JSON
type Reply = Record<string, any>;

async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<Reply> {
  const m = await nc.request(subject, body === undefined ? "" : JSON.stringify(body), { timeout: 3000 });
  return m.json<Reply>();
}

/** "ok" or the error's `code/err_code`. */
function code(r: Reply): string {
  return r.error === undefined ? "ok" : `${r.error.code}/${r.error.err_code}`;
}

const stream = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  subjects: [`${name}.>`],
  storage: "file",
  ...extra,
});

async function userConn(url: string, acc: TestAccount): Promise<NatsConnection> {
  const u = await user(acc.kp);
  return connect({ servers: url, authenticator: jwtAuthenticator(u.jwt, u.seed), reconnect: false });
}

/** Operator with a system account, a JetStream account A (small limits) and an account B without. */
async function setup() {
  const op = await Operator.create({ system: true });
  const a = await op.account("A", {
    limits: {
      ...OPEN_LIMITS,
      disk_storage: 1000,
      mem_storage: 0,
      streams: 2,
      consumer: 1,
      disk_max_stream_bytes: 600,
      max_ack_pending: 100,
    },
  });
  const b = await op.account("B");
  return { op, a, b };
}

function serverConf(op: Operator, dir: string): Record<string, unknown> {
  return { ...op.config(), jetstream: { store_dir: dir } };
}

function confText(conf: Record<string, unknown>): string {
  return JSON.stringify(conf, null, 1).slice(1, -1);
}

/** The limit checks in order; every step's outcome code. */
async function limitScenario(url: string, a: TestAccount, b: TestAccount): Promise<string[]> {
  const out: string[] = [];
  const nc = await userConn(url, a);
  const nb = await userConn(url, b);
  try {
    out.push(`B info ${code(await api(nb, "$JS.API.INFO"))}`);
    out.push(`B create ${code(await api(nb, "$JS.API.STREAM.CREATE.X", stream("X")))}`);
    out.push(`memory ${code(await api(nc, "$JS.API.STREAM.CREATE.M", stream("M", { storage: "memory" })))}`);
    out.push(`too big ${code(await api(nc, "$JS.API.STREAM.CREATE.S1", stream("S1", { max_bytes: 700 })))}`);
    out.push(
      `max_consumers ${code(await api(nc, "$JS.API.STREAM.CREATE.S1", stream("S1", { max_consumers: 5 })))}`,
    );
    out.push(`S1 ${code(await api(nc, "$JS.API.STREAM.CREATE.S1", stream("S1", { max_bytes: 500 })))}`);
    out.push(`reserve ${code(await api(nc, "$JS.API.STREAM.CREATE.S2", stream("S2", { max_bytes: 600 })))}`);
    out.push(`S2 ${code(await api(nc, "$JS.API.STREAM.CREATE.S2", stream("S2")))}`);
    out.push(`count ${code(await api(nc, "$JS.API.STREAM.CREATE.S3", stream("S3")))}`);
    const c = (n: string) => ({ stream_name: "S1", config: { durable_name: n, ack_policy: "explicit" } });
    const over = {
      stream_name: "S1",
      config: { durable_name: "cx", ack_policy: "explicit", max_ack_pending: 500 },
    };
    const cx = await api(nc, "$JS.API.CONSUMER.CREATE.S1.cx", over);
    out.push(`ack pending ${code(cx)} ${cx.error?.description ?? ""}`);
    out.push(`c1 ${code(await api(nc, "$JS.API.CONSUMER.CREATE.S1.c1", c("c1")))}`);
    out.push(`c2 ${code(await api(nc, "$JS.API.CONSUMER.CREATE.S1.c2", c("c2")))}`);
    const info = await api(nc, "$JS.API.INFO");
    out.push(`limits ${JSON.stringify(info.limits)}`);
    // Publish 100-byte messages to S2 until the account's 1000 bytes (less S1's nothing) run out.
    let first = "none";
    for (let i = 0; i < 20 && first === "none"; i++) {
      const r = (await nc.request("S2.x", new Uint8Array(100), { timeout: 3000 })).json<Reply>();
      if (r.error !== undefined) first = `${code(r)} ${r.error.description}`;
    }
    out.push(`publish ${first}`);
  } finally {
    await nc.close();
    await nb.close();
  }
  return out;
}

describe("JetStream for JWT accounts", () => {
  it("enables JetStream from the account JWT and enforces its limits", async () => {
    const { op, a, b } = await setup();
    const dir = mkdtempSync(join(tmpdir(), "lattice-jwtjs-"));
    const srv = await startLattice(serverConf(op, dir));
    try {
      const out = await limitScenario(srv.url, a, b);
      assert.deepEqual(out.slice(0, 12), [
        "B info 503/10039",
        "B create 503/10039",
        "memory 500/10028",
        "too big 400/10122",
        "max_consumers 400/10026",
        "S1 ok",
        "reserve 500/10047",
        "S2 ok",
        "count 400/10027",
        "ack pending 400/10121 consumer max ack pending exceeds system limit of 100",
        "c1 ok",
        "c2 400/10026",
      ]);
      assert.deepEqual(JSON.parse(out[12].slice("limits ".length)), {
        max_memory: 0,
        max_storage: 1000,
        max_streams: 2,
        max_consumers: 1,
        max_ack_pending: 100,
        memory_max_stream_bytes: -1,
        storage_max_stream_bytes: 600,
        max_bytes_required: false,
      });
      assert.equal(out[13], "publish 400/10002 resource limits exceeded for account");
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("matches nats-server 2.9.10 on the same limits", { skip: !hasNatsServer() }, async () => {
    const { op, a, b } = await setup();
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "lattice-jwtjs-")));
    try {
      const srv = await startLattice(serverConf(op, dirs[0]));
      let ours: string[];
      try {
        ours = await limitScenario(srv.url, a, b);
      } finally {
        await srv.close();
      }
      const ref = await startNatsServer(confText(serverConf(op, dirs[1])));
      let theirs: string[];
      try {
        theirs = await limitScenario(ref.url, a, b);
      } finally {
        await ref.close();
      }
      assert.deepEqual(ours, theirs);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it("follows claim updates: enable, change limits, disable", async () => {
    const { op, a, b } = await setup();
    const dir = mkdtempSync(join(tmpdir(), "lattice-jwtjs-"));
    const srv = await startLattice({ ...serverConf(op, dir), http: "127.0.0.1:-1" });
    const monitor = srv.server.listenerUrls().monitoring![0];
    const su = await user(op.system!.kp);
    const sys = await connect({ servers: srv.url, authenticator: jwtAuthenticator(su.jwt, su.seed) });
    const push = async (acc: TestAccount, jwt: string) => {
      const r = await sys.request(`$SYS.REQ.ACCOUNT.${acc.key}.CLAIMS.UPDATE`, jwt, { timeout: 2000 });
      assert.equal(r.json<Reply>().data.code, 200);
    };
    const nb = await userConn(srv.url, b);
    const na = await userConn(srv.url, a);
    try {
      assert.equal(code(await api(nb, "$JS.API.INFO")), "503/10039");
      await push(
        b,
        await op.reissue(b, "B", { limits: { ...OPEN_LIMITS, disk_storage: -1, mem_storage: -1 } }),
      );
      const info = await api(nb, "$JS.API.INFO");
      assert.equal(code(info), "ok");
      assert.equal(info.limits.max_storage, -1);
      assert.equal(code(await api(nb, "$JS.API.STREAM.CREATE.X", stream("X"))), "ok");

      assert.equal(code(await api(na, "$JS.API.STREAM.CREATE.S1", stream("S1"))), "ok");
      assert.equal(code(await api(na, "$JS.API.STREAM.CREATE.S2", stream("S2"))), "ok");
      assert.equal(code(await api(na, "$JS.API.STREAM.CREATE.S3", stream("S3"))), "400/10027");
      await push(a, await op.reissue(a, "A", { limits: { ...OPEN_LIMITS, disk_storage: -1, streams: 3 } }));
      assert.equal((await api(na, "$JS.API.INFO")).limits.max_streams, 3);
      assert.equal(code(await api(na, "$JS.API.STREAM.CREATE.S3", stream("S3"))), "ok");

      // /accountz follows the grant.
      const accountz = (await (await fetch(`${monitor}/accountz?acc=${b.key}`)).json()) as Reply;
      assert.equal(accountz.account_detail.jetstream_enabled, true);
      // JetStream taken away: the API answers "not enabled", the streams' data stays for a later grant.
      await push(b, await op.reissue(b, "B", { limits: OPEN_LIMITS }));
      assert.equal(code(await api(nb, "$JS.API.INFO")), "503/10039");
      await push(b, await op.reissue(b, "B", { limits: { ...OPEN_LIMITS, disk_storage: -1 } }));
      const names = await api(nb, "$JS.API.STREAM.NAMES");
      assert.deepEqual(names.streams, ["X"]);
    } finally {
      await Promise.all([sys.close(), na.close(), nb.close()]);
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads the streams of JWT accounts at startup", async () => {
    const op = await Operator.create({ system: true });
    const a = await op.account("A", { limits: { ...OPEN_LIMITS, disk_storage: -1, mem_storage: -1 } });
    const dir = mkdtempSync(join(tmpdir(), "lattice-jwtjs-"));
    try {
      let srv = await startLattice(serverConf(op, dir));
      let nc = await userConn(srv.url, a);
      assert.equal(code(await api(nc, "$JS.API.STREAM.CREATE.S", stream("S"))), "ok");
      await nc.request("S.x", "hello", { timeout: 2000 });
      await nc.close();
      await srv.close();
      srv = await startLattice(serverConf(op, dir));
      try {
        nc = await userConn(srv.url, a);
        const info = await api(nc, "$JS.API.STREAM.INFO.S");
        assert.equal(info.state.messages, 1);
        await nc.close();
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("applies tiered limits and reports the tier", async () => {
    const op = await Operator.create({ system: true });
    const tiered = await op.account("T", {
      limits: {
        ...OPEN_LIMITS,
        tiered_limits: { R1: { disk_storage: -1, mem_storage: -1, streams: 1, consumer: -1 } },
      },
    });
    const r3 = await op.account("R3", {
      limits: { ...OPEN_LIMITS, tiered_limits: { R3: { disk_storage: -1, mem_storage: -1, streams: -1 } } },
    });
    const dir = mkdtempSync(join(tmpdir(), "lattice-jwtjs-"));
    const srv = await startLattice(serverConf(op, dir));
    const nt = await userConn(srv.url, tiered);
    const n3 = await userConn(srv.url, r3);
    try {
      assert.equal(code(await api(nt, "$JS.API.STREAM.CREATE.S1", stream("S1"))), "ok");
      assert.equal(code(await api(nt, "$JS.API.STREAM.CREATE.S2", stream("S2"))), "400/10027");
      const info = await api(nt, "$JS.API.INFO");
      assert.equal(info.limits.max_streams, 0);
      assert.equal(info.tiers.R1.streams, 1);
      assert.equal(info.tiers.R1.limits.max_streams, 1);
      assert.equal(info.tiers.R1.limits.max_storage, -1);
      const none = await api(n3, "$JS.API.STREAM.CREATE.S", stream("S"));
      assert.equal(code(none), "400/10120");
      assert.equal(none.error.description, "no JetStream default or applicable tiered limit present");
    } finally {
      await Promise.all([nt.close(), n3.close()]);
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports tiered limits in $JS.API.INFO as nats-server does", { skip: !hasNatsServer() }, async () => {
    const op = await Operator.create({ system: true });
    const t = await op.account("T", {
      limits: {
        ...OPEN_LIMITS,
        tiered_limits: { R1: { disk_storage: 100000, mem_storage: 5000, streams: 3, consumer: -1 } },
      },
    });
    const probe = async (url: string) => {
      const nc = await userConn(url, t);
      try {
        const out: Reply[] = [await api(nc, "$JS.API.INFO")];
        // num_replicas given: nats-server 2.9.10 picks the tier before defaulting it to 1.
        await api(nc, "$JS.API.STREAM.CREATE.S", stream("S", { max_bytes: 1000, num_replicas: 1 }));
        await nc.request("S.x", "hello", { timeout: 2000 });
        const info = await api(nc, "$JS.API.INFO");
        for (const r of [...out, info]) {
          delete r.api;
          delete r.reserved_memory;
          delete r.reserved_storage;
          // Byte counts follow the store's own per-message accounting: compared as used or not.
          r.storage = r.storage > 0;
          for (const tier of Object.values(r.tiers ?? {}) as Reply[]) {
            delete tier.reserved_memory;
            delete tier.reserved_storage;
            tier.storage = tier.storage > 0;
          }
        }
        out.push(info);
        return out;
      } finally {
        await nc.close();
      }
    };
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "lattice-jwtjs-")));
    try {
      const srv = await startLattice(serverConf(op, dirs[0]));
      let ours: Reply[];
      try {
        ours = await probe(srv.url);
      } finally {
        await srv.close();
      }
      const ref = await startNatsServer(confText(serverConf(op, dirs[1])));
      try {
        assert.deepEqual(ours, await probe(ref.url));
      } finally {
        await ref.close();
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
