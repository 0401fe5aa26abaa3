// Stream and service imports between config-file accounts, checked against explicit expectations and,
// when installed, against nats-server 2.9.10 running the same config and script.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hasNatsServer } from "../helpers/servers.js";
import { playOn, type Scene } from "./helpers.js";

const reference = hasNatsServer();

function users(name: string) {
  return [{ user: name, password: name }];
}

describe("account imports and exports", () => {
  it("stream imports deliver the exporter's messages under a prefix or a new name, nothing else", async () => {
    const conf = {
      accounts: {
        A: { users: users("a"), exports: [{ stream: "pub.>" }, { stream: "lit" }, { stream: "wc.*" }] },
        B: {
          users: users("b"),
          imports: [
            { stream: { account: "A", subject: "pub.>" }, prefix: "from_a" },
            { stream: { account: "A", subject: "lit" }, to: "renamed" },
          ],
        },
        C: {
          users: users("c"),
          imports: [
            { stream: { account: "A", subject: "pub.>" } },
            { stream: { account: "A", subject: "wc.*" } },
          ],
        },
      },
    };
    const play = async (s: Scene) => {
      for (const who of ["a", "b", "c"]) {
        await s.client(who, who, who);
        s.listen(who, ">");
      }
      await s.flush();
      const a = s.clients.get("a")!;
      a.publish("pub.1", "p1");
      a.publish("lit", "l");
      a.publish("wc.9", "w");
      a.publish("other", "o");
      s.clients.get("b")!.publish("pub.2", "from b");
      s.clients.get("c")!.publish("x", "from c");
    };
    const { ours, theirs } = await playOn(conf, play, reference);
    const expected = [
      { who: "a", subject: "pub.1", data: "p1" },
      { who: "a", subject: "lit", data: "l" },
      { who: "a", subject: "wc.9", data: "w" },
      { who: "a", subject: "other", data: "o" },
      { who: "b", subject: "from_a.pub.1", data: "p1" },
      { who: "b", subject: "renamed", data: "l" },
      { who: "b", subject: "pub.2", data: "from b" },
      { who: "c", subject: "pub.1", data: "p1" },
      { who: "c", subject: "wc.9", data: "w" },
      { who: "c", subject: "x", data: "from c" },
    ]
      .map((d) => JSON.stringify(d))
      .sort();
    assert.deepEqual(ours.log, expected);
    if (theirs) assert.deepEqual(ours.log, theirs.log);
  });

  it("service imports carry requests across and map replies back", async () => {
    const conf = {
      accounts: {
        A: {
          users: users("a"),
          exports: [{ service: "svc.>" }, { service: "many", response_type: "stream" }, { service: "one" }],
        },
        B: {
          users: users("b"),
          imports: [
            { service: { account: "A", subject: "svc.>" }, to: "ask.>" },
            { service: { account: "A", subject: "many" } },
            { service: { account: "A", subject: "one" } },
          ],
        },
      },
    };
    const play = async (s: Scene) => {
      const a = await s.client("a", "a", "a");
      const b = await s.client("b", "b", "b");
      s.listen("a", ">");
      a.subscribe("svc.>", { callback: (_e, m) => void m.respond(`r:${m.string()}`) });
      for (const subject of ["many", "one"]) {
        a.subscribe(subject, {
          callback: (_e, m) => {
            for (let i = 0; i < 3; i++) m.respond(`${subject}${i}`);
          },
        });
      }
      s.listen("b", "rep.>");
      await s.flush();
      const r = await b.request("ask.x", "q", { timeout: 2000 });
      const results: string[] = [`${r.subject.startsWith("_INBOX.") ? "_INBOX" : r.subject} ${r.string()}`];
      b.publish("many", "m", { reply: "rep.many" });
      b.publish("one", "o", { reply: "rep.one" });
      await s.flush();
      await new Promise((res) => setTimeout(res, 100));
      return results;
    };
    const { ours, theirs } = await playOn(conf, play, reference);
    assert.deepEqual(ours.result, ["_INBOX r:q"]);
    // Only the first of a Singleton service's responses reaches the requester; a Stream service's all do.
    const b = ours.log.filter((l) => l.includes('"who":"b"'));
    assert.deepEqual(
      b,
      ["many0", "many1", "many2"]
        .map((d) => ({ who: "b", subject: "rep.many", data: d }))
        .concat([{ who: "b", subject: "rep.one", data: "one0" }])
        .map((d) => JSON.stringify(d))
        .sort(),
    );
    // The exporter sees the requests (with the requester's account in Nats-Request-Info) and the
    // responses on `_R_.` subjects.
    const a = ours.log.filter((l) => l.includes('"who":"a"'));
    assert.ok(a.includes(JSON.stringify({ who: "a", subject: "svc.x", data: "q", requestInfo: "B" })));
    assert.ok(a.includes(JSON.stringify({ who: "a", subject: "_R_.*", data: "r:q" })));
    if (theirs) {
      assert.deepEqual(ours.result, theirs.result);
      assert.deepEqual(ours.log, theirs.log);
    }
  });

  it("refuses configs importing what is not exported to the importer", async () => {
    const { startServer } = await import("../../src/index.js");
    const bad = [
      {
        A: { exports: [{ stream: "a.>", accounts: ["C"] }] },
        B: { imports: [{ stream: { account: "A", subject: "a.>" } }] },
        C: {},
      },
      {
        A: { exports: [{ service: "a.>" }] },
        B: { imports: [{ stream: { account: "A", subject: "a.>" } }] },
      },
      { A: {}, B: { imports: [{ service: { account: "X", subject: "a" } }] } },
    ];
    for (const accounts of bad) await assert.rejects(startServer({ accounts }), /import/);
    // An export restricted to B is importable by B.
    const ok = await startServer({
      accounts: {
        A: { exports: [{ stream: "a.>", accounts: ["B"] }] },
        B: { imports: [{ stream: { account: "A", subject: "a.b" } }] },
      },
    });
    await ok.close();
  });
  it("refuses import cycles, as nats-server does", async () => {
    const { startServer } = await import("../../src/index.js");
    const cycles = [
      {
        A: { exports: [{ stream: "x.>" }], imports: [{ stream: { account: "B", subject: "x.>" } }] },
        B: { exports: [{ stream: "x.>" }], imports: [{ stream: { account: "A", subject: "x.>" } }] },
      },
      {
        A: { exports: [{ service: "x.>" }], imports: [{ service: { account: "B", subject: "x.>" } }] },
        B: { exports: [{ service: "x.>" }], imports: [{ service: { account: "A", subject: "x.>" } }] },
      },
    ];
    for (const accounts of cycles) await assert.rejects(startServer({ accounts }), /import forms a cycle/);
    // Both directions on subjects that never meet are fine; so is a loop through remapped subjects, which
    // nats-server accepts too: imports take one hop, so nothing goes round.
    const ok = await startServer({
      accounts: {
        A: { exports: [{ stream: "a.>" }], imports: [{ stream: { account: "B", subject: "b.>" } }] },
        B: { exports: [{ stream: "b.>" }], imports: [{ stream: { account: "A", subject: "a.>" } }] },
      },
    });
    await ok.close();
    const conf = {
      accounts: {
        A: {
          users: users("a"),
          exports: [{ stream: "a.>" }],
          imports: [{ stream: { account: "C", subject: "c.>" }, to: "a.>" }],
        },
        B: {
          users: users("b"),
          exports: [{ stream: "b.>" }],
          imports: [{ stream: { account: "A", subject: "a.>" }, to: "b.>" }],
        },
        C: {
          users: users("c"),
          exports: [{ stream: "c.>" }],
          imports: [{ stream: { account: "B", subject: "b.>" }, to: "c.>" }],
        },
      },
    };
    const { ours } = await playOn(
      conf,
      async (s) => {
        for (const who of ["a", "b", "c"]) {
          await s.client(who, who, who);
          s.listen(who, ">");
        }
        await s.flush();
        s.clients.get("a")!.publish("a.1", "x");
      },
      false,
    );
    assert.deepEqual(
      ours.log,
      [
        { who: "a", subject: "a.1", data: "x" },
        { who: "b", subject: "b.1", data: "x" },
      ]
        .map((d) => JSON.stringify(d))
        .sort(),
    );
  });
  it("stream imports take one hop: what B imported from A does not reach C", async () => {
    const conf = {
      accounts: {
        A: { users: users("a"), exports: [{ stream: "a.>" }, { stream: "q.>" }] },
        B: {
          users: users("b"),
          exports: [{ stream: "a.>" }, { stream: "p.>" }],
          imports: [
            { stream: { account: "A", subject: "a.>" } },
            { stream: { account: "A", subject: "q.>" }, prefix: "p" },
          ],
        },
        C: {
          users: users("c"),
          imports: [
            { stream: { account: "B", subject: "a.>" } },
            { stream: { account: "B", subject: "p.>" } },
          ],
        },
      },
    };
    const play = async (s: Scene) => {
      for (const who of ["a", "b", "c"]) {
        await s.client(who, who, who);
        s.listen(who, ">");
      }
      await s.flush();
      s.clients.get("a")!.publish("a.1", "x");
      s.clients.get("a")!.publish("q.1", "y");
      // B's own messages do reach C.
      s.clients.get("b")!.publish("a.2", "z");
    };
    const { ours, theirs } = await playOn(conf, play, reference);
    assert.deepEqual(
      ours.log,
      [
        { who: "a", subject: "a.1", data: "x" },
        { who: "a", subject: "q.1", data: "y" },
        { who: "b", subject: "a.1", data: "x" },
        { who: "b", subject: "p.q.1", data: "y" },
        { who: "b", subject: "a.2", data: "z" },
        { who: "c", subject: "a.2", data: "z" },
      ]
        .map((d) => JSON.stringify(d))
        .sort(),
    );
    if (theirs) assert.deepEqual(ours.log, theirs.log);
  });
});
