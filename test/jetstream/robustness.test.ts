// Malformed requests never crash the server or go unanswered: every API endpoint gets every kind of bad
// body (wrong JSON types in every field, truncated JSON, arrays, huge numbers) and answers with an error
// from the table or a success, and the server keeps serving.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { API_ERRORS } from "../../src/jetstream/api-errors.js";
import { api, type JsEnv, rawRequest, startJs } from "./helpers.js";

const KNOWN = new Set<number>(Object.values(API_ERRORS).map((e) => e.errCode));

const FIELDS = [
  "name",
  "subjects",
  "retention",
  "max_msgs",
  "max_age",
  "storage",
  "discard",
  "mirror",
  "sources",
  "republish",
  "subject_transform",
  "placement",
  "metadata",
  "consumer_limits",
  "seq",
  "last_by_subj",
  "next_by_subj",
  "filter",
  "keep",
  "offset",
  "subject",
  "subjects_filter",
  "deleted_details",
  "no_erase",
  "batch",
  "multi_last",
  "start_time",
];
const VALUES: unknown[] = [
  null,
  true,
  -1,
  1.5,
  1e300,
  "x",
  "",
  [],
  [1, "a"],
  {},
  { name: 1 },
  "2020-13-45T99:99:99Z",
];

function bodies(name = "F"): string[] {
  const out = ["", "{", "[]", "null", "42", '"str"', "{}", `{"name":"${name}"`, "\u0000\u0001"];
  for (const f of FIELDS) for (const v of VALUES) out.push(JSON.stringify({ name, [f]: v }));
  return out;
}

describe("malformed API requests", () => {
  let env: JsEnv;
  before(async () => {
    env = await startJs();
    await env.jsm.streams.add({ name: "F", subjects: ["f.>"], allow_direct: true });
    await env.jsm.jetstream().publish("f.a", "x");
    await env.jsm.streams.add({ name: "U", subjects: ["u.>"] });
  });
  after(async () => {
    await env.close();
  });

  it("are answered with table errors and leave the server working", async () => {
    const subjects = [
      "STREAM.CREATE.F",
      "STREAM.UPDATE.U",
      "STREAM.INFO.F",
      "STREAM.NAMES",
      "STREAM.LIST",
      "STREAM.PURGE.F",
      "STREAM.MSG.GET.F",
      "STREAM.MSG.DELETE.F",
      "INFO",
    ];
    let answered = 0;
    for (const s of subjects) {
      for (const b of bodies(s.endsWith(".U") ? "U" : "F")) {
        const r = await api(env.nc, `$JS.API.${s}`, b);
        assert.match(String(r.type), /^io\.nats\.jetstream\.api\.v1\./);
        if (r.error) assert.ok(KNOWN.has(r.error.err_code), `${s} ${b}: ${JSON.stringify(r.error)}`);
        answered++;
      }
    }
    for (const b of bodies()) {
      const m = await rawRequest(env.nc, "$JS.API.DIRECT.GET.F", b);
      assert.ok(m.headers !== undefined, b);
    }
    assert.ok(answered > 2000);
    const si = await env.jsm.streams.info("F");
    assert.equal(si.config.name, "F");
    await env.jsm.jetstream().publish("f.b", "still fine");
  });

  it("odd publish headers are errors, not crashes", async () => {
    const cases: Record<string, string>[] = [
      { "Nats-Expected-Last-Sequence": "abc" },
      { "Nats-Expected-Last-Sequence": "-1" },
      { "Nats-Expected-Last-Subject-Sequence": "1e9" },
      { "Nats-TTL": "-5s" },
      { "Nats-Rollup": "" },
      { "Nats-Msg-Id": "" },
    ];
    for (const h of cases) {
      const nc = env.nc;
      const m = await nc.request("f.c", "x", { timeout: 2000, headers: toHeaders(h) });
      const r = JSON.parse(new TextDecoder().decode(m.data));
      assert.ok(r.stream === "F", JSON.stringify(h));
    }
  });
});

import { headers } from "@nats-io/transport-node";

function toHeaders(h: Record<string, string>) {
  const out = headers();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}
