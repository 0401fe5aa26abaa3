import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { defaultJetStreamOptions } from "../../src/server/options.js";
import { startMonitored, until } from "./helpers.js";

type Conn = Record<string, unknown> & { cid: number; name?: string };
type Connz = { num_connections: number; total: number; offset: number; limit: number; connections: Conn[] };

describe("monitoring HTTP server", () => {
  it("serves pretty JSON with CORS, an HTML index, 404 and plain-text 400s", async () => {
    const m = await startMonitored();
    try {
      const varz = await m.get("/varz");
      assert.equal(varz.status, 200);
      assert.equal(varz.headers.get("content-type"), "application/json");
      assert.equal(varz.headers.get("access-control-allow-origin"), "*");
      const text = await varz.text();
      assert.match(text, /^\{\n {2}"server_id": "/);
      assert.equal(JSON.parse(text).server_id, m.server.id);

      const index = await m.get("/");
      assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
      const html = await index.text();
      for (const p of ["varz", "connz", "subsz", "jsz", "healthz", "metrics"])
        assert.ok(html.includes(`/${p}"`), p);

      const missing = await m.get("/nope");
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), "404 page not found\n");

      const bad = await m.get("/connz?sort=foo");
      assert.equal(bad.status, 400);
      assert.equal(await bad.text(), "invalid sorting option: foo");

      const health = await m.get("/healthz");
      assert.equal(await health.text(), '{"status":"ok"}');
      assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await m.close();
    }
  });

  it("honours the base path", async () => {
    const m = await startMonitored({ httpBasePath: "/mon" });
    try {
      assert.equal((await m.get("/varz")).status, 200);
      assert.equal((await fetch(`${m.server.listenerUrls().monitoring![0]}/varz`)).status, 404);
      assert.ok((await (await m.get("")).text()).includes('href="/mon/connz"'));
      assert.equal((await m.json("/varz")).http_base_path, "/mon");
    } finally {
      await m.close();
    }
  });

  it("counts connections, subscriptions and traffic in /varz and /metrics", async () => {
    const m = await startMonitored();
    try {
      // The system account's services subscribe too (nats-server counts them as well).
      const internal = (await m.json<{ subscriptions: number }>("/varz")).subscriptions;
      const sub = await m.connect("sub");
      const pub = await m.connect("pub");
      let received = 0;
      const callback = () => {
        received++;
      };
      sub.subscribe("foo.*", { callback });
      sub.subscribe("foo.bar", { queue: "q1", callback });
      await sub.flush();
      for (let i = 0; i < 5; i++) pub.publish("foo.bar", "hello");
      await pub.flush();
      await until(() => received === 10);

      const v = await m.json("/varz");
      assert.equal(v.connections, 2);
      assert.equal(v.total_connections, 2);
      assert.equal(v.subscriptions, internal + 2);
      assert.equal(v.in_msgs, 5);
      assert.equal(v.in_bytes, 25);
      assert.equal(v.out_msgs, 10);
      assert.equal(v.out_bytes, 50);
      assert.equal(v.port, m.server.port);
      assert.equal(v.http_port, Number(new URL(m.url).port));
      assert.equal(v.ping_interval, 120_000_000_000);
      assert.equal(typeof v.uptime, "string");
      assert.deepEqual(v.jetstream, {});

      const res = await m.get("/metrics");
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const metrics = await res.text();
      assert.match(metrics, /^lattice_connections 2$/m);
      assert.match(metrics, /^lattice_connections_total 2$/m);
      assert.match(metrics, new RegExp(`^lattice_subscriptions ${internal + 2}$`, "m"));
      assert.match(metrics, /^lattice_in_msgs_total 5$/m);
      assert.match(metrics, /^lattice_in_bytes_total 25$/m);
      assert.match(metrics, /^lattice_out_msgs_total 10$/m);
      assert.match(metrics, /^lattice_out_bytes_total 50$/m);
      assert.match(metrics, /^lattice_slow_consumers_total 0$/m);
      assert.match(metrics, /^lattice_uptime_seconds [\d.]+$/m);
      assert.match(metrics, /^lattice_memory_rss_bytes \d+$/m);
      assert.match(metrics, /^nodejs_heap_size_used_bytes \d+$/m);
    } finally {
      await m.close();
    }
  });

  it("pages, sorts and details /connz", async () => {
    const m = await startMonitored();
    try {
      const subCounts = { one: 1, three: 3, two: 2 };
      for (const [name, n] of Object.entries(subCounts)) {
        const nc = await m.connect(name);
        for (let i = 0; i < n; i++) nc.subscribe(`${name}.${i}`);
        await nc.flush();
      }
      const all = await m.json<Connz>("/connz");
      assert.equal(all.num_connections, 3);
      assert.deepEqual(
        all.connections.map((c) => c.name),
        ["one", "three", "two"],
      );
      assert.equal(all.connections[0].lang, "nats.js");
      assert.equal(all.connections[0].kind, "Client");
      assert.equal(all.connections[0].type, "nats");
      assert.equal(all.connections[0].ip, "127.0.0.1");

      const bySubs = await m.json<Connz>("/connz?sort=subs");
      assert.deepEqual(
        bySubs.connections.map((c) => c.name),
        ["three", "two", "one"],
      );
      const page = await m.json<Connz>("/connz?sort=subs&offset=1&limit=1");
      assert.deepEqual([page.num_connections, page.total, page.offset, page.limit], [1, 3, 1, 1]);
      assert.equal(page.connections[0].name, "two");

      const subs = await m.json<Connz>("/connz?subs=1&sort=subs&limit=1");
      assert.deepEqual(subs.connections[0].subscriptions_list, ["three.0", "three.1", "three.2"]);
      const detail = await m.json<Connz>("/connz?subs=detail&sort=subs&limit=1");
      const first = (detail.connections[0].subscriptions_list_detail as Array<Record<string, unknown>>)[0];
      assert.deepEqual(first, { subject: "three.0", sid: "1", msgs: 0, cid: detail.connections[0].cid });

      const byCid = await m.json<Connz>(`/connz?cid=${all.connections[1].cid}`);
      assert.deepEqual(
        byCid.connections.map((c) => c.name),
        ["three"],
      );
    } finally {
      await m.close();
    }
  });

  it("keeps closed connections with their reason", async () => {
    const m = await startMonitored();
    try {
      const stays = await m.connect("stays");
      const leaves = await m.connect("leaves");
      leaves.subscribe("bye");
      leaves.publish("bye", "x");
      await leaves.flush();
      await leaves.close();
      await until(async () => (await m.json<Connz>("/connz?state=closed")).num_connections === 1);

      const closed = await m.json<Connz>("/connz?state=closed&subs=1");
      const c = closed.connections[0];
      assert.equal(c.name, "leaves");
      assert.equal(c.reason, "Client Closed");
      assert.equal(typeof c.stop, "string");
      assert.equal(c.in_msgs, 1);
      assert.deepEqual(c.subscriptions_list, ["bye"]);

      assert.equal((await m.json<Connz>("/connz")).connections[0].name, "stays");
      assert.equal((await m.json<Connz>("/connz?state=all")).total, 2);
      assert.equal((await m.json<Connz>("/connz?state=closed&sort=stop")).num_connections, 1);
      const bad = await m.get("/connz?sort=stop");
      assert.equal(bad.status, 400);
      assert.equal(await bad.text(), "sort by stop only valid on closed connections");
      assert.equal((await m.json("/varz")).total_connections, 2);
      await stays.flush();
    } finally {
      await m.close();
    }
  });

  it("shows the authorized user with auth=1 and filters by user", async () => {
    const m = await startMonitored({ authorization: { users: [{ user: "alice", password: "secret" }] } });
    try {
      const nc = await connect({ servers: m.server.clientUrl, user: "alice", pass: "secret", name: "authd" });
      try {
        await nc.flush();
        assert.equal((await m.json("/varz")).auth_required, true);
        assert.equal((await m.json<Connz>("/connz")).connections[0].authorized_user, undefined);
        const authz = await m.json<Connz>("/connz?auth=1");
        assert.equal(authz.connections[0].authorized_user, "alice");
        assert.equal(authz.connections[0].account, undefined);
        assert.equal((await m.json<Connz>("/connz?user=alice")).num_connections, 1);
        const other = await m.json<Connz>("/connz?user=bob");
        assert.deepEqual([other.num_connections, other.total], [0, 1]);
      } finally {
        await nc.close();
      }
    } finally {
      await m.close();
    }
  });

  it("lists and tests subscriptions in /subsz", async () => {
    const m = await startMonitored();
    try {
      const internal = (await m.json<{ num_subscriptions: number }>("/subsz")).num_subscriptions;
      const nc = await m.connect();
      nc.subscribe("orders.*");
      nc.subscribe("orders.new", { queue: "workers" });
      nc.subscribe("other");
      await nc.flush();
      const stats = await m.json("/subsz");
      assert.equal(stats.num_subscriptions, internal + 3);
      assert.equal(stats.subscriptions_list, undefined);

      const matched = await m.json<{ total: number; subscriptions_list: Array<Record<string, unknown>> }>(
        "/subsz?subs=1&test=orders.new",
      );
      assert.equal(matched.total, 2);
      const subjects = matched.subscriptions_list.map((s) => s.subject).sort();
      assert.deepEqual(subjects, ["orders.*", "orders.new"]);
      const queued = matched.subscriptions_list.find((s) => s.subject === "orders.new")!;
      assert.equal(queued.qgroup, "workers");
      assert.equal(queued.account, "$G");

      const bad = await m.get("/subsz?test=orders.*");
      assert.equal(bad.status, 400);
    } finally {
      await m.close();
    }
  });

  it("answers /jsz, /healthz, /accountz, /routez, /gatewayz and /leafz", async () => {
    const m = await startMonitored();
    try {
      const js = await m.json("/jsz");
      assert.equal(js.disabled, true);
      assert.deepEqual(js.config, { max_memory: 0, max_storage: 0 });
      assert.deepEqual(await m.json("/healthz"), { status: "ok" });
      // As nats-server: the system account exists even without an accounts block.
      assert.deepEqual((await m.json("/accountz")).accounts, ["$G", "$SYS"]);
      const routez = await m.json("/routez");
      assert.deepEqual([routez.num_routes, routez.routes], [0, []]);
      const gatewayz = await m.json("/gatewayz");
      assert.deepEqual([gatewayz.outbound_gateways, gatewayz.inbound_gateways], [{}, {}]);
      const leafz = await m.json("/leafz");
      assert.deepEqual([leafz.leafnodes, leafz.leafs], [0, null]);
    } finally {
      await m.close();
    }
  });

  it("reports JetStream configuration from the options before an engine is attached", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-monitor-js-"));
    const m = await startMonitored({
      jetstream: { ...defaultJetStreamOptions(), storeDir: dir, maxMemory: 2 ** 30, maxStore: 2 ** 31 },
    });
    try {
      const js = await m.json<Record<string, unknown> & { config: Record<string, unknown> }>("/jsz");
      assert.equal(js.disabled, undefined);
      assert.equal(js.config.max_memory, 2 ** 30);
      assert.equal(js.config.max_storage, 2 ** 31);
      const varzJs = (await m.json("/varz")).jetstream as { config: Record<string, unknown> };
      assert.equal(varzJs.config.max_memory, 2 ** 30);
      assert.deepEqual(await m.json("/healthz"), { status: "ok" });
    } finally {
      await m.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
