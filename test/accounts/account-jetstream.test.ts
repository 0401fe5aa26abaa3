// JetStream limits of config-file accounts (`accounts { A: { jetstream: { ... } } }`): enforced with
// nats-server's errors and reported by $JS.API.INFO; checked against the reference nats-server when present.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";

// biome-ignore lint/suspicious/noExplicitAny: API replies are arbitrary JSON
type Reply = Record<string, any>;

async function api(nc: NatsConnection, subject: string, body: unknown = ""): Promise<Reply> {
  const m = await nc.request(subject, typeof body === "string" ? body : JSON.stringify(body), {
    timeout: 3000,
  });
  return m.json<Reply>();
}

function code(r: Reply): string {
  return r.error === undefined ? "ok" : `${r.error.code}/${r.error.err_code}`;
}

const stream = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  subjects: [`${name}.>`],
  storage: "file",
  ...extra,
});

function conf(dir: string): Record<string, unknown> {
  return {
    jetstream: { store_dir: dir },
    accounts: {
      A: {
        jetstream: { max_streams: 2, max_file: 4096, max_mem: 0, max_bytes_required: true, max_consumers: 3 },
        users: [{ user: "a", password: "a" }],
      },
      U: { jetstream: "enabled", users: [{ user: "u", password: "u" }] },
      N: { users: [{ user: "n", password: "n" }] },
    },
  };
}

async function scenario(url: string): Promise<string[]> {
  const out: string[] = [];
  const a = await connect({ servers: url, user: "a", pass: "a" });
  const u = await connect({ servers: url, user: "u", pass: "u" });
  const n = await connect({ servers: url, user: "n", pass: "n" });
  try {
    out.push(`N ${code(await api(n, "$JS.API.INFO"))}`);
    out.push(`U ${JSON.stringify((await api(u, "$JS.API.INFO")).limits)}`);
    out.push(`A ${JSON.stringify((await api(a, "$JS.API.INFO")).limits)}`);
    out.push(`required ${code(await api(a, "$JS.API.STREAM.CREATE.S1", stream("S1")))}`);
    out.push(
      `memory ${code(await api(a, "$JS.API.STREAM.CREATE.M", stream("M", { storage: "memory", max_bytes: 10 })))}`,
    );
    out.push(`S1 ${code(await api(a, "$JS.API.STREAM.CREATE.S1", stream("S1", { max_bytes: 2048 })))}`);
    out.push(`over ${code(await api(a, "$JS.API.STREAM.CREATE.S2", stream("S2", { max_bytes: 4096 })))}`);
    out.push(`S2 ${code(await api(a, "$JS.API.STREAM.CREATE.S2", stream("S2", { max_bytes: 2048 })))}`);
    out.push(`S3 ${code(await api(a, "$JS.API.STREAM.CREATE.S3", stream("S3", { max_bytes: 1 })))}`);
  } finally {
    await Promise.all([a.close(), u.close(), n.close()]);
  }
  return out;
}

describe("JetStream limits of config-file accounts", () => {
  it("are enforced and reported", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-accjs-"));
    const srv = await startLattice(conf(dir));
    try {
      const out = await scenario(srv.url);
      assert.equal(out[0], "N 503/10039");
      assert.deepEqual(JSON.parse(out[1].slice(2)).max_storage, -1);
      assert.deepEqual(JSON.parse(out[2].slice(2)), {
        max_memory: 0,
        max_storage: 4096,
        max_streams: 2,
        max_consumers: 3,
        max_ack_pending: -1,
        memory_max_stream_bytes: -1,
        storage_max_stream_bytes: -1,
        max_bytes_required: true,
      });
      assert.deepEqual(out.slice(3), [
        "required 400/10113",
        "memory 500/10028",
        "S1 ok",
        "over 500/10047",
        "S2 ok",
        "S3 400/10027",
      ]);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuse unknown limits at startup", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-accjs-"));
    try {
      await assert.rejects(
        startLattice({ jetstream: { store_dir: dir }, accounts: { A: { jetstream: { max_things: 1 } } } }),
        /max_things/,
      );
      await assert.rejects(
        startLattice({ jetstream: { store_dir: dir }, accounts: { A: { jetstream: "maybe" } } }),
        /expected 'enabled' or 'disabled'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("match nats-server 2.9.10", { skip: !hasNatsServer() }, async () => {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "lattice-accjs-")));
    try {
      const srv = await startLattice(conf(dirs[0]));
      let ours: string[];
      try {
        ours = await scenario(srv.url);
      } finally {
        await srv.close();
      }
      const ref = await startNatsServer(JSON.stringify(conf(dirs[1]), null, 1).slice(1, -1));
      try {
        assert.deepEqual(ours, await scenario(ref.url));
      } finally {
        await ref.close();
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
