// Pull consumer priority groups (ADR-42, nats-server 2.11): config validation with nats-server's errors,
// the "overflow" minimums, the "pinned_client" pin (Nats-Pin-Id, 423s, timeout, CONSUMER.UNPIN and the
// advisories), and "prioritized" ordering. Raw MSG.NEXT requests show the exact statuses; the official
// client shows that consume() with a group works as against nats-server.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AckPolicy,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  type PriorityPolicy,
} from "@nats-io/jetstream";
import { createInbox, type Msg } from "@nats-io/transport-node";
import { api, type JsEnv, removeDir, sleep, startJs, until } from "../helpers.js";

const te = new TextEncoder();
const SEC = 1_000_000_000;

/** A raw pull request whose answers are collected until `stop()`. */
function pull(env: JsEnv, consumer: string, body: unknown): { got: Msg[]; stop: () => void } {
  const inbox = createInbox();
  const got: Msg[] = [];
  const sub = env.nc.subscribe(inbox, {
    callback: (_e, m) => {
      got.push(m);
    },
  });
  env.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.PG.${consumer}`, te.encode(JSON.stringify(body)), {
    reply: inbox,
  });
  return { got, stop: () => sub.unsubscribe() };
}

function status(m: Msg): string {
  return `${m.headers?.code ?? 0} ${m.headers?.description ?? ""}`.trim();
}

function isMessage(m: Msg): boolean {
  return m.subject.startsWith("pg.");
}

describe("priority groups", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    js = jetstream(env.nc);
    await jsm.streams.add({ name: "PG", subjects: ["pg.>"] });
    await env.nc.flush();
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  const create = (config: Record<string, unknown>) =>
    api(env.nc, `$JS.API.CONSUMER.CREATE.PG.${config.name}`, { stream_name: "PG", config });

  it("the server announces the 2.11 feature level and JetStream API level 1", async () => {
    const info = env.nc.info as unknown as { version: string; api_lvl: number };
    assert.equal(info.version, "2.11.0");
    assert.equal(info.api_lvl, 1);
    const ai = await jsm.getAccountInfo();
    assert.equal((ai as unknown as { api: { level: number } }).api.level, 1);
  });

  it("validates the config with nats-server's errors", async () => {
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ name: "x", deliver_subject: "pg-in", priority_groups: ["g"], priority_policy: "overflow" }, 10178],
      [{ name: "x", priority_policy: "pinned_client" }, 10159],
      [{ name: "x", priority_groups: ["this-name-is-too-long"], priority_policy: "overflow" }, 10162],
      [{ name: "x", priority_groups: ["g.1"], priority_policy: "overflow" }, 10162],
      [{ name: "x", priority_groups: [""], priority_policy: "overflow" }, 10161],
      [{ name: "x", priority_groups: ["g"] }, 10196],
      [{ name: "x", priority_timeout: SEC }, 10197],
      [{ name: "x", priority_groups: ["g"], priority_policy: "bogus" }, 10025],
    ];
    for (const [config, code] of cases) {
      const r = await create({ ack_policy: "explicit", ...config });
      assert.equal(r.error?.err_code, code, JSON.stringify(config));
    }
    const ci = (await create({
      name: "pin-defaults",
      ack_policy: "explicit",
      priority_groups: ["jobs"],
      priority_policy: "pinned_client",
    })) as ConsumerInfo;
    assert.equal(ci.config.priority_timeout, 120 * SEC, "pinned_client defaults to a 2 minute timeout");
    assert.deepEqual(ci.config.priority_groups, ["jobs"]);
    assert.deepEqual((ci as unknown as { priority_groups: unknown[] }).priority_groups, [
      { group: "jobs", pinned_ts: "0001-01-01T00:00:00Z" },
    ]);
  });

  it("refuses pull requests that do not fit the policy", async () => {
    await create({ name: "plain", ack_policy: "explicit" });
    await create({
      name: "ovf",
      ack_policy: "explicit",
      priority_groups: ["g"],
      priority_policy: "overflow",
    });
    const cases: Array<[string, unknown, string]> = [
      [
        "plain",
        { batch: 1, expires: SEC, min_pending: 5 },
        "400 Bad Request - Not a Overflow Priority consumer",
      ],
      [
        "plain",
        { batch: 1, expires: SEC, id: "X" },
        "400 Bad Request - Not a Pinned Client Priority consumer",
      ],
      [
        "ovf",
        { batch: 1, expires: SEC, group: "g", priority: 10 },
        "400 Bad Request - Priority must be between 0 and 9",
      ],
      ["ovf", { batch: 1, expires: SEC }, "400 Bad Request - Priority Group missing"],
      ["ovf", { batch: 1, expires: SEC, group: "h" }, "400 Bad Request - Invalid Priority Group"],
    ];
    for (const [consumer, body, want] of cases) {
      const p = pull(env, consumer, body);
      await until(() => p.got.length > 0, 2000);
      p.stop();
      assert.equal(status(p.got[0]), want, JSON.stringify(body));
    }
  });

  it("overflow: a request waits until the backlog reaches its minimum", async () => {
    await create({
      name: "o",
      ack_policy: "explicit",
      filter_subject: "pg.o",
      priority_groups: ["g"],
      priority_policy: "overflow",
    });
    for (let i = 0; i < 3; i++) await js.publish("pg.o", `o${i}`);
    const far = pull(env, "o", { batch: 1, expires: 2 * SEC, group: "g", min_pending: 10 });
    const near = pull(env, "o", { batch: 1, expires: 2 * SEC, group: "g", min_pending: 2 });
    await until(() => near.got.some(isMessage), 2000);
    await until(() => far.got.length > 0, 4000);
    far.stop();
    near.stop();
    assert.equal(near.got.filter(isMessage).length, 1);
    assert.equal(status(far.got[0]), "408 Request Timeout", "3 pending never reached min_pending 10");
    await jsm.consumers.delete("PG", "o");
  });

  it("pinned_client: one client gets the messages, the others stand by; unpin and timeout move the pin", async () => {
    await create({
      name: "p",
      ack_policy: "explicit",
      filter_subject: "pg.p",
      priority_groups: ["jobs"],
      priority_policy: "pinned_client",
      priority_timeout: SEC,
    });
    const advisories: string[] = [];
    const adv = env.nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.*.PG.p", {
      callback: (_e, m) => {
        const type = m.json<{ type: string }>().type;
        if (type.includes("pinned")) advisories.push(type);
      },
    });
    await js.publish("pg.p", "p1");
    const a = pull(env, "p", { batch: 1, expires: 5 * SEC, group: "jobs" });
    await until(() => a.got.some(isMessage), 2000);
    const pinId = a.got.find(isMessage)!.headers?.get("Nats-Pin-Id") ?? "";
    assert.equal(pinId.length, 22);
    const info = await jsm.consumers.info("PG", "p");
    const groups = (info as unknown as { priority_groups: Array<Record<string, string>> }).priority_groups;
    assert.equal(groups[0].pinned_client_id, pinId);

    // A standby client (no id) is not served while the pin holds; a wrong id is refused at once.
    const standby = pull(env, "p", { batch: 5, expires: 10 * SEC, group: "jobs" });
    const wrong = pull(env, "p", { batch: 1, expires: SEC, group: "jobs", id: "NOTTHEPIN" });
    await until(() => wrong.got.length > 0, 2000);
    assert.equal(status(wrong.got[0]), "423 Nats-Pin-Id mismatch");
    const pinned = pull(env, "p", { batch: 1, expires: 5 * SEC, group: "jobs", id: pinId });
    await js.publish("pg.p", "p2");
    await until(() => pinned.got.some(isMessage), 2000);
    assert.equal(standby.got.filter(isMessage).length, 0);

    // Unpin: the standby request becomes the pinned client with a new id.
    const r = await api(env.nc, "$JS.API.CONSUMER.UNPIN.PG.p", { group: "jobs" });
    assert.equal(r.type, "io.nats.jetstream.api.v1.consumer_unpin_response");
    assert.equal(r.error, undefined);
    await js.publish("pg.p", "p3");
    await until(() => standby.got.some(isMessage), 2000);
    const newId = standby.got.find(isMessage)!.headers?.get("Nats-Pin-Id");
    assert.ok(newId !== undefined && newId !== pinId);

    // The new pinned client goes silent past priority_timeout: its pin lapses.
    await until(async () => {
      const i = await jsm.consumers.info("PG", "p");
      return (
        (i as unknown as { priority_groups: Array<Record<string, string>> }).priority_groups[0]
          .pinned_client_id === undefined
      );
    }, 4000);
    for (const p of [a, standby, wrong, pinned]) p.stop();
    await until(() => advisories.length >= 4, 2000);
    adv.unsubscribe();
    assert.deepEqual(advisories, [
      "io.nats.jetstream.advisory.v1.consumer_group_pinned",
      "io.nats.jetstream.advisory.v1.consumer_group_unpinned",
      "io.nats.jetstream.advisory.v1.consumer_group_pinned",
      "io.nats.jetstream.advisory.v1.consumer_group_unpinned",
    ]);
  });

  it("UNPIN answers nats-server's errors", async () => {
    const bad = await api(env.nc, "$JS.API.CONSUMER.UNPIN.PG.p", { group: "nope" });
    assert.equal(bad.error.err_code, 10160);
    const missing = await api(env.nc, "$JS.API.CONSUMER.UNPIN.PG.nobody", { group: "jobs" });
    assert.equal(missing.error.err_code, 10014);
    const noGroup = await api(env.nc, "$JS.API.CONSUMER.UNPIN.PG.p", {});
    assert.equal(noGroup.error.err_code, 10025);
  });

  it("prioritized: lower priorities are served first", async () => {
    await create({
      name: "pr",
      ack_policy: "explicit",
      filter_subject: "pg.pr",
      priority_groups: ["g"],
      priority_policy: "prioritized",
    });
    const low = pull(env, "pr", { batch: 1, expires: 3 * SEC, group: "g", priority: 5 });
    const high = pull(env, "pr", { batch: 1, expires: 3 * SEC, group: "g", priority: 0 });
    await env.nc.flush();
    await sleep(50);
    await js.publish("pg.pr", "first");
    await until(() => high.got.some(isMessage), 2000);
    assert.equal(low.got.filter(isMessage).length, 0);
    await js.publish("pg.pr", "second");
    await until(() => low.got.some(isMessage), 2000);
    low.stop();
    high.stop();
  });

  it("consume() with a group works through the official client", async () => {
    await jsm.consumers.add("PG", {
      durable_name: "c",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "pg.c",
      priority_groups: ["workers"],
      priority_policy: "pinned_client" as PriorityPolicy,
    });
    for (let i = 0; i < 5; i++) await js.publish("pg.c", `c${i}`);
    const c = await js.consumers.get("PG", "c");
    const msgs = await c.consume({ group: "workers", max_messages: 10 });
    const pinned: string[] = [];
    (async () => {
      for await (const s of msgs.status()) if (s.type === "consumer_pinned") pinned.push(s.type);
    })().catch(() => {});
    let n = 0;
    for await (const m of msgs) {
      m.ack();
      if (++n === 5) break;
    }
    assert.equal(n, 5);
    assert.deepEqual(pinned, ["consumer_pinned"]);
  });
});
