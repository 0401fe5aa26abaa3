// PubAcks wait for the flush that makes their message durable and go out in the order they were queued,
// grouped per flush; a failed flush turns its replies into errors and leaves later ones alone.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DurableReplies, type ReplyBody } from "../../src/jetstream/durable-replies.js";

function deferred() {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("durable replies", () => {
  it("sends each flush's replies once it settles, in order, errors only for the failed one", async () => {
    const sent: string[] = [];
    const q = new DurableReplies((reply: string, body: ReplyBody, err: unknown) => {
      sent.push(`${reply}:${typeof body === "number" ? body : body()}${err ? "!" : ""}`);
    });
    const a = deferred();
    q.track(a.promise);
    q.push("r1", 1);
    q.track(a.promise); // same flush: same group
    q.push("r2", 2);
    const b = deferred();
    q.track(b.promise);
    q.push("r3", 3);
    q.push("r4", () => "err-text");
    const c = deferred();
    q.track(c.promise);
    q.push("r5", -5);
    await tick();
    assert.deepEqual(sent, []);
    a.resolve();
    await tick();
    assert.deepEqual(sent, ["r1:1", "r2:2"]);
    // A later flush settling first must wait for the earlier one.
    c.resolve();
    await tick();
    assert.deepEqual(sent, ["r1:1", "r2:2"]);
    b.reject(new Error("disk"));
    await tick();
    assert.deepEqual(sent, ["r1:1", "r2:2", "r3:3!", "r4:err-text!", "r5:-5"]);
    // Queued after everything settled: goes out without a new flush.
    q.push("r6", 6);
    await tick();
    assert.deepEqual(sent.at(-1), "r6:6");
  });

  it("drops queued replies on clear", async () => {
    const sent: string[] = [];
    const q = new DurableReplies((reply) => sent.push(reply));
    const a = deferred();
    q.track(a.promise);
    q.push("x", 1);
    q.clear();
    a.resolve();
    await tick();
    assert.deepEqual(sent, []);
    q.push("y", 2);
    await tick();
    assert.deepEqual(sent, ["y"]);
  });
});
