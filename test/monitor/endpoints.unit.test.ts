import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountz } from "../../src/monitor/accountz.js";
import { healthz } from "../../src/monitor/healthz.js";
import { type JetStreamMonitorSource, jsz } from "../../src/monitor/jsz.js";
import { ServerMetrics } from "../../src/monitor/metrics.js";
import { subsz } from "../../src/monitor/subsz.js";
import { HttpError, type MonitoredSubscription } from "../../src/monitor/types.js";
import { varz } from "../../src/monitor/varz.js";
import { defaultJetStreamOptions } from "../../src/server/options.js";
import type { SubjectIndex } from "../../src/subjects/subject-index.js";
import { fakeConn, fakeServer, T0 } from "./fakes.js";

const NOW = new Date(T0 + 62_000);
const q = (s: string) => new URLSearchParams(s);
const rejects400 = (f: () => unknown, text: string) =>
  assert.throws(f, (e: unknown) => e instanceof HttpError && e.status === 400 && e.message === text);

function serverWithSubs() {
  const server = fakeServer([fakeConn({ cid: 1 })]);
  const sublist = server.accounts.get("$G")!.sublist as SubjectIndex<MonitoredSubscription>;
  const owner = { cid: 1 };
  sublist.insert({ subject: "foo.*", queue: undefined, sid: "1", delivered: 3, max: 0, owner });
  sublist.insert({ subject: "foo.bar", queue: "q1", sid: "2", delivered: 2, max: 10, owner });
  sublist.insert({ subject: "baz", queue: undefined, sid: "3", delivered: 0, max: 0, owner });
  return server;
}

describe("/subsz", () => {
  it("returns bare statistics without subs", () => {
    const r = subsz(serverWithSubs(), q(""), NOW) as Record<string, unknown>;
    assert.deepEqual(Object.keys(r), [
      "num_subscriptions",
      "num_cache",
      "num_inserts",
      "num_removes",
      "num_matches",
      "cache_hit_rate",
      "max_fanout",
      "avg_fanout",
    ]);
    assert.equal(r.num_subscriptions, 3);
    assert.equal(r.num_inserts, 3);
  });

  it("lists, filters by test subject and pages", () => {
    const server = serverWithSubs();
    const all = subsz(server, q("subs=1"), NOW) as { total: number; subscriptions_list: object[] };
    assert.equal(all.total, 3);
    const matched = subsz(server, q("subs=1&test=foo.bar"), NOW) as { subscriptions_list: object[] };
    assert.deepEqual(
      new Set(matched.subscriptions_list),
      new Set([
        { account: "$G", subject: "foo.*", sid: "1", msgs: 3, cid: 1 },
        { account: "$G", subject: "foo.bar", qgroup: "q1", sid: "2", msgs: 2, max: 10, cid: 1 },
      ]),
    );
    const page = subsz(server, q("subs=1&offset=1&limit=1"), NOW) as Record<string, unknown>;
    assert.deepEqual([page.total, page.offset, page.limit], [1, 1, 1]);
    // The walk leaves the match statistics alone.
    assert.equal((subsz(server, q(""), NOW) as { num_matches: number }).num_matches, 0);
  });

  it("rejects a wildcard test subject", () => {
    rejects400(
      () => subsz(serverWithSubs(), q("subs=1&test=foo.*"), NOW),
      "invalid test subject, must be valid publish subject: foo.*",
    );
  });
});

describe("/varz", () => {
  it("reports options in nats-server's units and omits what is unset", () => {
    const server = fakeServer([fakeConn({ cid: 1 })], [], { maxSubscriptions: 0, tags: [] });
    server.stats.inMsgs = 5;
    server.stats.totalConnections = 7;
    const v = varz(server, { httpPort: 8222, httpReqStats: new Map([["/varz", 1]]), cpu: 0 }, NOW) as Record<
      string,
      unknown
    >;
    assert.equal(v.ping_interval, 120_000_000_000);
    assert.equal(v.write_deadline, 10_000_000_000);
    assert.equal(v.uptime, "1m2s");
    assert.equal(v.connections, 1);
    assert.equal(v.total_connections, 7);
    assert.equal(v.in_msgs, 5);
    assert.equal(v.http_port, 8222);
    assert.deepEqual(v.http_req_stats, { "/varz": 1 });
    assert.deepEqual(v.jetstream, {});
    assert.deepEqual(v.websocket, {});
    for (const absent of ["max_subscriptions", "tags", "auth_required", "system_account", "tls_required"]) {
      assert.equal(absent in v, false, absent);
    }
  });
});

describe("/jsz and /healthz", () => {
  it("answers the disabled shape without JetStream", () => {
    const r = jsz(fakeServer([]), q(""), NOW) as Record<string, unknown>;
    assert.equal(r.disabled, true);
    assert.deepEqual(r.config, { max_memory: 0, max_storage: 0 });
    assert.deepEqual(r.api, { total: 0, errors: 0 });
    assert.deepEqual(healthz(fakeServer([]), q("")).body, { status: "ok" });
  });

  it("reports config from options until an engine is attached, then the engine's figures", () => {
    const js = { ...defaultJetStreamOptions(), storeDir: "/tmp/lattice-js", maxMemory: 1024, domain: "hub" };
    const server = fakeServer([], [], { jetstream: js });
    const r = jsz(server, q(""), NOW) as Record<string, unknown>;
    assert.equal(r.disabled, undefined);
    const config = r.config as Record<string, unknown>;
    assert.equal(config.max_memory, 1024);
    assert.equal(config.store_dir, "/tmp/lattice-js/jetstream");
    assert.equal(config.domain, "hub");
    assert.ok((config.max_storage as number) > 0);
    assert.equal(healthz(server, q("")).status, undefined);

    const source: JetStreamMonitorSource = {
      config: () => ({ max_memory: 1, max_storage: 2, store_dir: "/x" }),
      usage: () => ({
        memory: 0,
        storage: 0,
        reserved_memory: 0,
        reserved_storage: 0,
        accounts: 1,
        ha_assets: 0,
        api: { total: 0, errors: 0 },
        streams: 4,
        consumers: 0,
        messages: 0,
        bytes: 0,
      }),
      healthErrors: () => ["JetStream is starting"],
      accountDetails: () => [{ name: "$G", id: "$G" }],
    };
    const attached = { ...server, jetstreamMonitor: source };
    const r2 = jsz(attached, q("accounts=true"), NOW) as Record<string, unknown>;
    assert.deepEqual(r2.config, { max_memory: 1, max_storage: 2, store_dir: "/x" });
    assert.equal(r2.streams, 4);
    assert.deepEqual(r2.account_details, [{ name: "$G", id: "$G" }]);
    const h = healthz(attached, q(""));
    assert.equal(h.status, 503);
    assert.deepEqual(h.body, { status: "unavailable", error: "JetStream is starting" });
    rejects400(
      () => healthz(attached, q("js-enabled-only=x")),
      `Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing "x": invalid syntax`,
    );
    rejects400(
      () => jsz(attached, q("accounts=x"), NOW),
      `Error decoding boolean for 'accounts': strconv.ParseBool: parsing "x": invalid syntax`,
    );
  });
});

describe("/accountz", () => {
  it("lists accounts and details one", () => {
    const server = serverWithSubs();
    assert.deepEqual((accountz(server, q(""), NOW) as { accounts: string[] }).accounts, ["$G"]);
    const d = (accountz(server, q("acc=$G"), NOW) as { account_detail: Record<string, unknown> })
      .account_detail;
    assert.equal(d.account_name, "$G");
    assert.equal(d.subscriptions, 3);
    assert.equal(d.client_connections, 1);
    rejects400(() => accountz(server, q("acc=nope"), NOW), "Account nope does not exist");
  });
});

describe("metrics", () => {
  it("reads the counters at scrape time, per server", async () => {
    const a = fakeServer([fakeConn({ cid: 1 }), fakeConn({ cid: 2 })]);
    const b = fakeServer([]);
    const ma = new ServerMetrics(a);
    const mb = new ServerMetrics(b);
    a.stats.inMsgs = 3;
    a.stats.outBytes = 40;
    const text = await ma.render();
    assert.match(text, /^lattice_connections 2$/m);
    assert.match(text, /^lattice_in_msgs_total 3$/m);
    assert.match(text, /^lattice_out_bytes_total 40$/m);
    assert.match(text, /^# TYPE lattice_in_msgs_total counter$/m);
    assert.match(text, /^lattice_server_info\{server_id="NFAKESERVERID"/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    a.stats.inMsgs = 5;
    assert.match(await ma.render(), /^lattice_in_msgs_total 5$/m);
    assert.match(await mb.render(), /^lattice_connections 0$/m);
  });
});
