// The consumer filter index: a subject reaches the consumers without a filter and those whose filter
// matches it, once each; entries follow filter changes and removals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsumerFilterIndex } from "../../../src/jetstream/consumer/filter-index.js";

function concerned(index: ConsumerFilterIndex<string>, subject: string): string[] {
  const out: string[] = [];
  index.forEach(subject, (c) => out.push(c));
  return out.sort();
}

describe("consumer filter index", () => {
  it("finds the unfiltered consumers and those whose filters match", () => {
    const index = new ConsumerFilterIndex<string>();
    index.set("all", []);
    index.set("gt", [">"]);
    index.set("orders", ["orders.>"]);
    index.set("eu", ["orders.eu.*", "returns.eu.*"]);
    index.set("one", ["orders.us.1"]);
    assert.deepEqual(concerned(index, "orders.eu.7"), ["all", "eu", "gt", "orders"]);
    assert.deepEqual(concerned(index, "orders.us.1"), ["all", "gt", "one", "orders"]);
    assert.deepEqual(concerned(index, "returns.eu.3"), ["all", "eu", "gt"]);
    assert.deepEqual(concerned(index, "other"), ["all", "gt"]);
  });

  it("follows filter changes and removals", () => {
    const index = new ConsumerFilterIndex<string>();
    index.set("c", ["a.*"]);
    assert.deepEqual(concerned(index, "a.x"), ["c"]);
    index.set("c", ["b.*"]);
    assert.deepEqual(concerned(index, "a.x"), []);
    assert.deepEqual(concerned(index, "b.x"), ["c"]);
    index.set("c", []);
    assert.deepEqual(concerned(index, "z"), ["c"]);
    index.delete("c");
    assert.deepEqual(concerned(index, "z"), []);
    index.set("d", ["k.1"]);
    index.clear();
    assert.deepEqual(concerned(index, "k.1"), []);
  });

  it("costs in proportion to the consumers a subject concerns", () => {
    const index = new ConsumerFilterIndex<number>();
    for (let i = 0; i < 10_000; i++) index.set(i, [`kv.key${i % 1000}`]);
    let calls = 0;
    for (let k = 0; k < 1000; k++) index.forEach(`kv.key${k}`, () => calls++);
    assert.equal(calls, 10_000, "ten consumers per subject, each reached once");
  });
});
