import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connz } from "../../src/monitor/connz.js";
import { HttpError } from "../../src/monitor/types.js";
import { fakeConn, fakeServer, T0 } from "./fakes.js";

type Connz = {
  num_connections: number;
  total: number;
  offset: number;
  limit: number;
  connections: Array<Record<string, unknown>>;
};

const NOW = new Date(T0 + 100_000);
const open = [
  fakeConn({ cid: 1, startMs: T0, lastMs: T0 + 90_000, subs: ["a", "b"], outMsgs: 5, inBytes: 1, rttMs: 2 }),
  fakeConn({ cid: 2, startMs: T0 + 10_000, lastMs: T0 + 20_000, subs: ["c"], outMsgs: 9, inBytes: 7 }),
  fakeConn({ cid: 3, startMs: T0 + 5_000, lastMs: T0 + 50_000, subs: [], pending: 100, user: "bob" }),
];
const closed = [
  fakeConn({
    cid: 4,
    startMs: T0,
    lastMs: T0 + 1_000,
    stopMs: T0 + 30_000,
    reason: "Client Closed",
    subs: ["x"],
  }),
  fakeConn({
    cid: 5,
    startMs: T0,
    lastMs: T0 + 2_000,
    stopMs: T0 + 60_000,
    reason: "Authentication Timeout",
  }),
];
const server = fakeServer(open, closed);
const get = (query: string) => connz(server, new URLSearchParams(query), NOW) as Connz;
const cids = (query: string) => get(query).connections.map((c) => c.cid);

describe("/connz on a fake server", () => {
  it("lists open connections by cid with nats-server's fields", () => {
    const r = get("");
    assert.equal(r.num_connections, 3);
    assert.equal(r.total, 3);
    assert.equal(r.limit, 1024);
    const c = r.connections[0];
    assert.deepEqual(Object.keys(c).slice(0, 8), [
      "cid",
      "kind",
      "type",
      "ip",
      "port",
      "start",
      "last_activity",
      "rtt",
    ]);
    assert.equal(c.type, "nats");
    assert.equal(c.rtt, "2ms");
    assert.equal(c.uptime, "1m40s");
    assert.equal(c.idle, "10s");
    assert.equal(c.subscriptions, 2);
    assert.equal(c.subscriptions_list, undefined);
    assert.equal(c.stop, undefined);
  });

  it("sorts in nats-server's directions", () => {
    assert.deepEqual(cids("sort=subs"), [1, 2, 3]);
    assert.deepEqual(cids("sort=msgs_to"), [2, 1, 3]);
    assert.deepEqual(cids("sort=bytes_from"), [2, 1, 3]);
    assert.deepEqual(cids("sort=pending"), [3, 1, 2]);
    assert.deepEqual(cids("sort=start"), [1, 3, 2]);
    assert.deepEqual(cids("sort=last"), [1, 3, 2]);
    assert.deepEqual(cids("sort=idle"), [2, 3, 1]);
    assert.deepEqual(cids("sort=uptime"), [2, 3, 1]);
    assert.deepEqual(cids("sort=rtt"), [1, 2, 3]);
    assert.deepEqual(cids("state=closed&sort=stop"), [5, 4]);
    assert.deepEqual(cids("state=closed&sort=reason"), [5, 4]);
  });

  it("pages with offset and limit", () => {
    const r = get("sort=cid&offset=1&limit=1");
    assert.deepEqual([r.num_connections, r.total, r.offset, r.limit], [1, 3, 1, 1]);
    assert.equal(r.connections[0].cid, 2);
    assert.equal(get("offset=10").num_connections, 0);
    assert.equal(get("offset=-3&limit=-1").limit, 1024);
  });

  it("filters by cid, state and user", () => {
    const one = get("cid=2");
    assert.deepEqual([one.num_connections, one.total, one.limit], [1, 3, 1]);
    assert.equal(get("cid=4").num_connections, 0);
    assert.equal(get("cid=4&state=closed").connections[0].cid, 4);
    assert.deepEqual(cids("state=all"), [1, 2, 3, 4, 5]);
    assert.deepEqual(cids("state=ALL"), [1, 2, 3, 4, 5]);
    const bob = get("user=bob");
    assert.deepEqual([bob.num_connections, bob.total], [1, 3]);
  });

  it("shows closed connections with stop, reason and frozen uptime", () => {
    const r = get("state=closed&subs=1");
    assert.equal(r.total, 2);
    const c = r.connections[0];
    assert.equal(c.reason, "Client Closed");
    assert.equal(c.stop, new Date(T0 + 30_000).toISOString());
    assert.equal(c.uptime, "30s");
    assert.equal(c.idle, "29s");
    assert.deepEqual(c.subscriptions_list, ["x"]);
  });

  it("lists subscriptions, or their detail, and the user with auth", () => {
    assert.deepEqual(get("subs=1").connections[0].subscriptions_list, ["a", "b"]);
    const detail = get("subs=detail").connections[1];
    assert.equal(detail.subscriptions_list, undefined);
    assert.deepEqual(detail.subscriptions_list_detail, [{ subject: "c", sid: "1", msgs: 0, cid: 2 }]);
    assert.equal(get("").connections[2].authorized_user, undefined);
    assert.equal(get("auth=true").connections[2].authorized_user, "bob");
    assert.equal(get("auth=true").connections[2].account, undefined);
  });

  it("rejects bad parameters with nats-server's texts", () => {
    const cases: Array<[string, string]> = [
      ["sort=foo", "invalid sorting option: foo"],
      ["sort=CID", "invalid sorting option: CID"],
      ["sort=toString", "invalid sorting option: toString"],
      ["sort=stop", "sort by stop only valid on closed connections"],
      ["sort=reason&state=all", "sort by reason only valid on closed connections"],
      ["state=bogus", "Error decoding state for bogus"],
      ["sort=foo&limit=x", `Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax`],
      ["subs=bogus", `Error decoding boolean for 'subs': strconv.ParseBool: parsing "bogus": invalid syntax`],
      ["auth=2", `Error decoding boolean for 'auth': strconv.ParseBool: parsing "2": invalid syntax`],
      ["cid=abc", `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "abc": invalid syntax`],
    ];
    for (const [query, text] of cases) {
      assert.throws(
        () => get(query),
        (e: unknown) => e instanceof HttpError && e.status === 400 && e.message === text,
        query,
      );
    }
  });
});
