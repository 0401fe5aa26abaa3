// Differential test: the same raw requests against the reference nats-server (Debian's 2.9) and Lattice,
// answers compared after dropping what legitimately differs (timestamps, byte counts of the store format,
// fields newer servers add). Only behaviour the reference has is scripted here.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { hasNatsServer, startNatsServer, type TestServer } from "../helpers/servers.js";
import { removeDir, startJs, tempDir } from "./helpers.js";

type Step = [subject: string, body?: unknown, hdrs?: Record<string, string>];

const S = (name: string, cfg: Record<string, unknown> = {}): Step => [
  `$JS.API.STREAM.CREATE.${name}`,
  { name, ...cfg },
];

const STEPS: Step[] = [
  ["$JS.API.STREAM.NAMES"],
  ["$JS.API.STREAM.LIST"],
  S("A", { subjects: ["a.>"], allow_direct: true }),
  S("A", { subjects: ["a.>"], allow_direct: true }),
  S("A", { subjects: ["a.>"], max_msgs: 10 }),
  ["$JS.API.STREAM.CREATE.B", { name: "A" }],
  ["$JS.API.STREAM.CREATE.B", "{bad"],
  ["$JS.API.STREAM.CREATE.B", ""],
  ["$JS.API.STREAM.CREATE.B", { subjects: ["b"] }],
  S("B", { subjects: ["a.b"] }),
  S("B", { num_replicas: 3 }),
  S("B", { num_replicas: -1 }),
  S("B", { max_age: 1000 }),
  S("B", { max_age: 1e9, duplicate_window: 2e9 }),
  S("B", { duplicate_window: 50 }),
  S("B", { sealed: true }),
  S("B", { deny_purge: true, allow_rollup_hdrs: true }),
  S("B", { discard_new_per_subject: true }),
  S("B", { discard: "new", discard_new_per_subject: true }),
  S("B", { storage: "disk" }),
  S("B", { retention: "foo" }),
  S("B", { max_msgs: "x" }),
  S("B", { max_msgs: 1.5 }),
  S("B", { subjects: ["a..b"] }),
  S("B", { subjects: ["b.>", "b.c"] }),
  S("B", { subjects: ["b", "b"] }),
  S("B", { subjects: ["$JS.API.>"] }),
  S("B", { mirror: { name: "A" }, subjects: ["x"] }),
  S("B", { mirror: { name: "A" }, sources: [{ name: "A" }] }),
  S("B", { sources: [{ name: "B" }] }),
  S("B", { description: "d".repeat(5000) }),
  S("B", { republish: { src: "b", dest: "b" } }),
  S("B", { republish: { src: "x.>", dest: "out.>" } }),
  ["$JS.API.STREAM.CREATE.a/b", { name: "a/b" }],
  ["$JS.API.STREAM.CREATE.S*", { name: "S*" }],
  [`$JS.API.STREAM.CREATE.${"x".repeat(300)}`, { name: "x".repeat(300) }],
  ["$JS.API.STREAM.INFO.NOPE"],
  ["$JS.API.STREAM.INFO.A", "{"],
  ["$JS.API.STREAM.UPDATE.NOPE", { name: "NOPE" }],
  ["$JS.API.STREAM.UPDATE.A", { name: "A", subjects: ["a.>"], storage: "memory" }],
  ["$JS.API.STREAM.UPDATE.A", { name: "B", subjects: ["a.>"] }],
  ["$JS.API.STREAM.UPDATE.A", "{"],
  ["a.one", "hello"],
  ["a.two", "1", { "Nats-Msg-Id": "id1" }],
  ["a.two", "1", { "Nats-Msg-Id": "id1" }],
  ["a.two", "1", { "Nats-Expected-Stream": "X" }],
  ["a.two", "1", { "Nats-Expected-Last-Sequence": "1" }],
  ["a.two", "1", { "Nats-Expected-Last-Subject-Sequence": "0" }],
  ["a.two", "1", { "Nats-Expected-Last-Msg-Id": "nope" }],
  ["a.two", "1", { "Nats-Rollup": "sub" }],
  ["$JS.API.STREAM.MSG.GET.A", { seq: 1 }],
  ["$JS.API.STREAM.MSG.GET.A", { seq: 99 }],
  ["$JS.API.STREAM.MSG.GET.A", { last_by_subj: "a.*" }],
  ["$JS.API.STREAM.MSG.GET.A", { seq: 1, last_by_subj: "a.one" }],
  ["$JS.API.STREAM.MSG.GET.A", {}],
  ["$JS.API.STREAM.MSG.GET.A", ""],
  ["$JS.API.STREAM.MSG.GET.A", "{"],
  ["$JS.API.STREAM.MSG.GET.A", { seq: -1 }],
  ["$JS.API.STREAM.MSG.GET.NOPE", { seq: 1 }],
  ["$JS.API.DIRECT.GET.A", { seq: 2 }],
  ["$JS.API.DIRECT.GET.A", { seq: 99 }],
  ["$JS.API.DIRECT.GET.A", {}],
  ["$JS.API.DIRECT.GET.A", ""],
  ["$JS.API.DIRECT.GET.A", "{"],
  ["$JS.API.DIRECT.GET.A", { seq: 1, last_by_subj: "a.one" }],
  ["$JS.API.DIRECT.GET.A.a.one", ""],
  ["$JS.API.DIRECT.GET.A.a.zz", ""],
  ["$JS.API.DIRECT.GET.A.a.one", { seq: 1 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 1 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 1 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 99 }],
  ["$JS.API.STREAM.MSG.DELETE.A", {}],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 0 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 3 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 3 }],
  ["$JS.API.STREAM.MSG.DELETE.A", { seq: 3, no_erase: true }],
  ["$JS.API.STREAM.INFO.A", { deleted_details: true, subjects_filter: ">" }],
  ["$JS.API.STREAM.PURGE.A", { seq: 5, keep: 1 }],
  ["$JS.API.STREAM.PURGE.A", "{"],
  ["$JS.API.STREAM.PURGE.A", { filter: "a.two", keep: 1 }],
  ["$JS.API.STREAM.PURGE.A"],
  ["$JS.API.STREAM.PURGE.NOPE"],
  S("N", { subjects: ["n"], max_msgs: 1, discard: "new", max_msg_size: 10, storage: "memory" }),
  ["n", "x"],
  ["n", "x"],
  ["n", "0123456789a"],
  S("DD", { subjects: ["dd"], deny_delete: true, deny_purge: true }),
  ["dd", "x"],
  ["$JS.API.STREAM.MSG.DELETE.DD", { seq: 1 }],
  ["$JS.API.STREAM.PURGE.DD"],
  ["$JS.API.STREAM.UPDATE.DD", { name: "DD", subjects: ["dd"], deny_purge: true }],
  [
    "$JS.API.STREAM.UPDATE.DD",
    { name: "DD", subjects: ["dd"], deny_delete: true, deny_purge: true, sealed: true },
  ],
  ["dd", "x"],
  ["$JS.API.STREAM.UPDATE.DD", { name: "DD", subjects: ["dd"], deny_delete: true, deny_purge: true }],
  ["$JS.API.STREAM.DELETE.DD", { x: 1 }],
  ["$JS.API.STREAM.DELETE.DD"],
  ["$JS.API.STREAM.DELETE.DD"],
  ["$JS.API.STREAM.NAMES", { subject: "a.x" }],
  ["$JS.API.STREAM.NAMES", { offset: 10 }],
  ["$JS.API.STREAM.LIST", { subject: "zz" }],
  ["$JS.API.STREAM.LEADER.STEPDOWN.A"],
];

/** Drop what differs for good reasons: times, store byte accounting, fields newer servers add. */
function normalize(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (["ts", "created", "bytes", "reserved_memory", "reserved_storage", "level"].includes(k)) continue;
      if (["compression", "consumer_limits", "allow_msg_ttl", "did_create"].includes(k)) continue;
      if (k.endsWith("_ts") || k === "time") continue;
      out[k] = normalize(x, k);
    }
    return out;
  }
  if (key === "Nats-Time-Stamp") return "<ts>";
  return v;
}

async function run(nc: NatsConnection): Promise<unknown[]> {
  const out: unknown[] = [];
  const te = new TextEncoder();
  for (const [subject, body, hdrs] of STEPS) {
    const data =
      body === undefined
        ? new Uint8Array(0)
        : te.encode(typeof body === "string" ? body : JSON.stringify(body));
    let h: ReturnType<typeof headers> | undefined;
    if (hdrs) {
      h = headers();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    }
    try {
      const m = await nc.request(subject, data, { timeout: 1500, headers: h });
      const status = m.headers ? `${m.headers.code} ${m.headers.description}` : "";
      const hdrList = m.headers ? [...m.headers.keys()].map((k) => [k, normalize(m.headers?.get(k), k)]) : [];
      const text = new TextDecoder().decode(m.data);
      let payload: unknown = text;
      try {
        payload = JSON.parse(text);
      } catch {
        // raw message (direct get)
      }
      out.push({
        step: `${subject} ${JSON.stringify(body ?? "")}`,
        status,
        hdrList,
        payload: normalize(payload),
      });
    } catch (err) {
      out.push({ step: `${subject} ${JSON.stringify(body ?? "")}`, failed: (err as Error).message });
    }
  }
  return out;
}

describe("differential against the reference nats-server", {
  skip: !hasNatsServer() && "nats-server not installed",
}, () => {
  let ref: TestServer;
  let refDir: string;
  before(async () => {
    refDir = tempDir();
    ref = await startNatsServer(`jetstream { store_dir: "${refDir}" }`);
  });
  after(async () => {
    await ref.close();
    removeDir(refDir);
  });

  it("answers the scripted stream requests like nats-server", async () => {
    const rc = await connect({ servers: ref.url });
    const expected = await run(rc);
    await rc.close();
    const env = await startJs();
    const actual = await run(env.nc);
    await env.close();
    for (let i = 0; i < STEPS.length; i++) assert.deepEqual(actual[i], expected[i], `step ${i}`);
  });
});
