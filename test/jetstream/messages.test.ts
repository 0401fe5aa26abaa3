// Reading and removing stored messages: STREAM.MSG.GET, DIRECT.GET (every form and status), MSG.DELETE
// and the purge variants, through the official client and as raw requests.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { headers } from "@nats-io/transport-node";
import { api, errCode, type JsEnv, rawRequest, startJs, text } from "./helpers.js";

describe("message get, direct get, delete and purge", () => {
  let env: JsEnv;
  before(async () => {
    env = await startJs();
    await env.jsm.streams.add({ name: "M", subjects: ["m.>"], allow_direct: true });
    const js = env.jsm.jetstream();
    const h = headers();
    h.set("k", "v");
    await js.publish("m.a", "1", { headers: h });
    await js.publish("m.b", "2");
    await js.publish("m.a", "3");
    await js.publish("m.c", "");
  });
  after(async () => {
    await env.close();
  });

  it("MSG.GET by sequence, last_by_subj (wildcards too) and next_by_subj", async () => {
    const m1 = await env.jsm.streams.getMessage("M", { seq: 1 });
    assert.equal(m1?.subject, "m.a");
    assert.equal(m1?.string(), "1");
    assert.equal(m1?.header.get("k"), "v");
    const last = await env.jsm.streams.getMessage("M", { last_by_subj: "m.a" });
    assert.equal(last?.seq, 3);
    const wild = await env.jsm.streams.getMessage("M", { last_by_subj: "m.*" });
    assert.equal(wild?.seq, 4);
    const next = await api(env.nc, "$JS.API.STREAM.MSG.GET.M", { next_by_subj: "m.a", seq: 2 });
    assert.equal(next.message.seq, 3);
    assert.equal(await env.jsm.streams.getMessage("M", { seq: 99 }), null);
    const raw = await api(env.nc, "$JS.API.STREAM.MSG.GET.M", { seq: 4 });
    assert.deepEqual(Object.keys(raw.message), ["subject", "seq", "time"]);
    const withHdr = await api(env.nc, "$JS.API.STREAM.MSG.GET.M", { seq: 1 });
    assert.equal(Buffer.from(withHdr.message.hdrs, "base64").toString(), "NATS/1.0\r\nk: v\r\n\r\n");
  });

  it("MSG.GET errors: bad request, invalid JSON, not found, unknown stream", async () => {
    const cases: [string, unknown, number][] = [
      ["M", {}, 10003],
      ["M", "", 10003],
      ["M", { seq: 1, last_by_subj: "m.a" }, 10003],
      ["M", "{", 10025],
      ["M", { seq: -1 }, 10025],
      ["M", { last_by_subj: "nope" }, 10037],
      ["NOPE", { seq: 1 }, 10059],
    ];
    for (const [stream, body, code] of cases) {
      const r = await api(env.nc, `$JS.API.STREAM.MSG.GET.${stream}`, body);
      assert.equal(r.type, "io.nats.jetstream.api.v1.stream_msg_get_response");
      assert.equal(r.error?.err_code, code, JSON.stringify(body));
    }
  });

  it("DIRECT.GET by sequence, last_by_subj, next_by_subj and subject form", async () => {
    const dm = await env.jsm.direct.getMessage("M", { seq: 1 });
    assert.equal(dm?.subject, "m.a");
    assert.equal(dm?.seq, 1);
    assert.equal(dm?.header.get("k"), "v");
    assert.equal((dm as unknown as { stream: string }).stream, "M");
    assert.ok(dm?.time instanceof Date);
    // The client uses the subject-appended form for last_by_subj.
    const last = await env.jsm.direct.getMessage("M", { last_by_subj: "m.a" });
    assert.equal(last?.seq, 3);
    const next = await env.jsm.direct.getMessage("M", { next_by_subj: "m.b" });
    assert.equal(next?.seq, 2);
    assert.equal(await env.jsm.direct.getMessage("M", { seq: 50 }), null);
    // Raw: server headers are appended after the stored ones.
    const raw = await rawRequest(env.nc, "$JS.API.DIRECT.GET.M", JSON.stringify({ seq: 1 }));
    assert.equal(text(raw), "1");
    assert.deepEqual(
      [...(raw.headers?.keys() ?? [])],
      ["k", "Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp"],
    );
    const subj = await rawRequest(env.nc, "$JS.API.DIRECT.GET.M.m.b");
    assert.equal(subj.headers?.get("Nats-Sequence"), "2");
  });

  it("DIRECT.GET keeps a UTF-8 subject and the payload intact in its reply", async () => {
    const payload = new Uint8Array(10_000).map((_, i) => i % 251);
    const ack = await env.jsm.jetstream().publish("m.grüße.日本", payload);
    const got = await env.jsm.direct.getMessage("M", { last_by_subj: "m.grüße.日本" });
    assert.equal(got?.subject, "m.grüße.日本");
    assert.equal(got?.seq, ack.seq);
    assert.ok(Buffer.from(got?.data ?? []).equals(payload), "payload intact");
    const again = await env.jsm.direct.getMessage("M", { seq: ack.seq });
    assert.ok(Buffer.from(again?.data ?? []).equals(payload), "payload intact by sequence");
  });

  it("DIRECT.GET answers bad requests with 408 and misses with 404", async () => {
    const cases: [string, string, number, string][] = [
      ["$JS.API.DIRECT.GET.M", "", 408, "Empty Request"],
      ["$JS.API.DIRECT.GET.M", "{}", 408, "Empty Request"],
      ["$JS.API.DIRECT.GET.M", "{", 408, "Malformed Request"],
      ["$JS.API.DIRECT.GET.M", '{"seq":1,"last_by_subj":"m.a"}', 408, "Bad Request"],
      ["$JS.API.DIRECT.GET.M.m.a", '{"seq":1}', 408, "Bad Request"],
      ["$JS.API.DIRECT.GET.M", '{"seq":77}', 404, "Message Not Found"],
      ["$JS.API.DIRECT.GET.M.m.zzz", "", 404, "Message Not Found"],
    ];
    for (const [subject, body, code, desc] of cases) {
      const m = await rawRequest(env.nc, subject, body);
      assert.equal(m.headers?.code, code, `${subject} ${body}`);
      assert.equal(m.headers?.description, desc);
      assert.equal(m.data.length, 0);
    }
  });

  it("DIRECT.GET batches end with EOB", async () => {
    const got: number[] = [];
    const sub = env.nc.subscribe("_INBOX.batch", { max: 3 });
    env.nc.publish("$JS.API.DIRECT.GET.M", JSON.stringify({ seq: 2, batch: 2 }), { reply: "_INBOX.batch" });
    const statuses: string[] = [];
    for await (const m of sub) {
      if (m.headers?.code === 204)
        statuses.push(`${m.headers.description} ${m.headers.get("Nats-Last-Sequence")}`);
      else got.push(Number(m.headers?.get("Nats-Sequence")));
    }
    assert.deepEqual(got, [2, 3]);
    assert.deepEqual(statuses, ["EOB 3"]);
  });

  it("DIRECT.GET batches stop at max_bytes; an empty start is 404 Message Not Found", async () => {
    const seqs = async (body: unknown) => {
      const inbox = `_INBOX.mb${Math.random().toString(36).slice(2)}`;
      const sub = env.nc.subscribe(inbox);
      env.nc.publish("$JS.API.DIRECT.GET.M", JSON.stringify(body), { reply: inbox });
      const out: string[] = [];
      for await (const m of sub) {
        const code = m.headers?.code ?? 0;
        out.push(code === 0 ? (m.headers?.get("Nats-Sequence") ?? "") : `${code} ${m.headers?.description}`);
        if (code !== 0) break;
      }
      return out;
    };
    // Counted as nats-server does (subject, stored headers, payload): "m.a" with its header block and "1"
    // already passes 5 bytes, so one message, then EOB.
    assert.deepEqual(await seqs({ seq: 1, batch: 10, max_bytes: 5 }), ["1", "204 EOB"]);
    assert.deepEqual(await seqs({ seq: 2, batch: 10, max_bytes: 7 }), ["2", "3", "204 EOB"]);
    assert.deepEqual(await seqs({ seq: 99, batch: 10 }), ["404 Message Not Found"]);
    assert.deepEqual(await seqs({ multi_last: ["zzz.>"] }), ["404 No Results"]);
  });

  it("a direct get nobody answers is 'no responders' at once, as with nats-server", async () => {
    await env.jsm.streams.add({ name: "NODIRECT", subjects: ["nodirect"] });
    for (const subject of ["$JS.API.DIRECT.GET.NODIRECT", "$JS.API.DIRECT.GET.NOSUCHSTREAM"]) {
      const t0 = Date.now();
      await assert.rejects(rawRequest(env.nc, subject, JSON.stringify({ seq: 1 })), /no responders/i);
      assert.ok(Date.now() - t0 < 1000, "answered, not timed out");
    }
  });

  it("MSG.DELETE erases or just removes, and reports missing messages", async () => {
    await env.jsm.streams.add({ name: "D", subjects: ["d"] });
    const js = env.jsm.jetstream();
    for (let i = 0; i < 3; i++) await js.publish("d", String(i));
    assert.equal(await env.jsm.streams.deleteMessage("D", 1), true);
    assert.equal(await env.jsm.streams.deleteMessage("D", 2, false), true);
    await assert.rejects(env.jsm.streams.deleteMessage("D", 1), (e: Error) => {
      assert.equal(errCode(e), 10057);
      assert.equal(e.message, "no message found");
      return true;
    });
    await assert.rejects(
      env.jsm.streams.deleteMessage("D", 10),
      (e: Error) => e.message === "stream store EOF",
    );
    // A gap inside the stream: nats-server's 400 "sequence N not found".
    for (let i = 0; i < 2; i++) await js.publish("d", "more");
    assert.equal(await env.jsm.streams.deleteMessage("D", 4), true);
    await assert.rejects(env.jsm.streams.deleteMessage("D", 4), (e: Error) => {
      assert.equal(errCode(e), 10043);
      assert.equal(e.message, "sequence 4 not found");
      return true;
    });
    const r = await api(env.nc, "$JS.API.STREAM.MSG.DELETE.D", {});
    assert.equal(r.error.err_code, 10003);
    const si = await env.jsm.streams.info("D");
    assert.equal(si.state.messages, 2);
    assert.equal(si.state.first_seq, 3);

    await env.jsm.streams.add({ name: "DD", subjects: ["dd"], deny_delete: true, deny_purge: true });
    await js.publish("dd");
    await assert.rejects(env.jsm.streams.deleteMessage("DD", 1), (e: Error) => {
      assert.equal(errCode(e), 10057);
      assert.equal(e.message, "message delete not permitted");
      return true;
    });
    await assert.rejects(env.jsm.streams.purge("DD"), (e: Error) => {
      assert.equal(errCode(e), 10110);
      assert.equal(e.message, "stream purge not permitted");
      return true;
    });
  });

  it("purges all, by subject, up to a sequence, and keeping the newest", async () => {
    await env.jsm.streams.add({ name: "PU", subjects: ["pu.*"] });
    const js = env.jsm.jetstream();
    const fill = async () => {
      for (let i = 0; i < 10; i++) await js.publish(`pu.${i % 2 === 0 ? "even" : "odd"}`, String(i));
    };
    await fill();
    let r = await env.jsm.streams.purge("PU", { filter: "pu.even" });
    assert.equal(r.purged, 5);
    r = await env.jsm.streams.purge("PU", { filter: "pu.odd", keep: 2 });
    assert.equal(r.purged, 3);
    r = await env.jsm.streams.purge("PU");
    assert.equal(r.purged, 2);
    let si = await env.jsm.streams.info("PU");
    assert.equal(si.state.first_seq, 11);
    assert.equal(si.state.last_seq, 10);
    await fill();
    r = await env.jsm.streams.purge("PU", { seq: 15 });
    assert.equal(r.purged, 4);
    r = await env.jsm.streams.purge("PU", { keep: 1 });
    assert.equal(r.purged, 5);
    si = await env.jsm.streams.info("PU");
    assert.equal(si.state.messages, 1);
    assert.equal(si.state.first_seq, 20);
    const bad = await api(env.nc, "$JS.API.STREAM.PURGE.PU", { seq: 5, keep: 1 });
    assert.deepEqual(bad, {
      type: "io.nats.jetstream.api.v1.stream_purge_response",
      error: { code: 400, err_code: 10003, description: "bad request" },
      purged: 0,
    });
    const missing = await api(env.nc, "$JS.API.STREAM.PURGE.NOPE");
    assert.equal(missing.error.err_code, 10059);
  });
});
