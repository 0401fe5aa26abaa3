// The linearizability checker on histories whose answer is known: sequential and concurrent ones, stale
// reads, lost acknowledged writes, two winners of one compare-and-set, operations with unknown outcomes,
// and long random histories of a register that is atomic by construction.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkLinearizable,
  type KvInput,
  type KvOutput,
  kvRegister,
  type Operation,
} from "../helpers/linearizability.js";

type Op = Operation<KvInput, KvOutput>;

const put = (value: string, revision: number, call: number, ret: number | undefined): Op => ({
  input: { op: "put", value },
  output: { ok: true, revision },
  call,
  ret,
});
const get = (value: string | undefined, revision: number, call: number, ret: number): Op => ({
  input: { op: "get" },
  output: { ok: true, revision, value },
  call,
  ret,
});
const cas = (value: string, expect: number, revision: number | false, call: number, ret?: number): Op => ({
  input: { op: "update", value, expect },
  output: revision === false ? { ok: false } : { ok: true, revision },
  call,
  ret,
});

const check = (ops: Op[]) => checkLinearizable(kvRegister, ops).linearizable;

describe("linearizability checker (KV register)", () => {
  it("accepts a sequential history and one with overlapping operations in either order", () => {
    assert.ok(check([put("a", 1, 0, 1), get("a", 1, 2, 3), cas("b", 1, 2, 4, 5), get("b", 2, 6, 7)]));
    // The read overlaps the write: it may see the value before or after.
    assert.ok(check([put("a", 1, 0, 1), put("b", 2, 2, 6), get("a", 1, 3, 4)]));
    assert.ok(check([put("a", 1, 0, 1), put("b", 2, 2, 6), get("b", 2, 3, 4)]));
  });

  it("rejects a stale read after an acknowledged write", () => {
    assert.equal(check([put("a", 1, 0, 1), put("b", 2, 2, 3), get("a", 1, 4, 5)]), false);
  });

  it("rejects a lost acknowledged write (a later read sees the older revision)", () => {
    assert.equal(check([put("a", 3, 0, 1), put("b", 5, 2, 3), get("c", 9, 4, 5), get("a", 3, 6, 7)]), false);
  });

  it("rejects two winners of one compare-and-set (a split brain's signature)", () => {
    const h = [put("a", 1, 0, 1), cas("x", 1, 2, 2, 5), cas("y", 1, 3, 3, 6)];
    assert.equal(check(h), false);
    // One winner and one loser is fine.
    assert.ok(check([put("a", 1, 0, 1), cas("x", 1, 2, 2, 5), cas("y", 1, false, 3, 6)]));
    // A failed compare-and-set when nothing else could have changed the key is wrong.
    assert.equal(check([put("a", 1, 0, 1), cas("x", 1, false, 2, 3)]), false);
  });

  it("lets an operation with an unknown outcome take effect late, or never", () => {
    // The put timed out; a read long after sees it (revision learnt from the read).
    assert.ok(check([put("a", 1, 0, 1), put("b", 0, 2, undefined), get("b", 4, 10, 11)]));
    // The same put that was never seen.
    assert.ok(check([put("a", 1, 0, 1), put("b", 0, 2, undefined), get("a", 1, 10, 11)]));
    // A timed-out compare-and-set that a later read shows took effect.
    assert.ok(check([put("a", 1, 0, 1), cas("c", 1, 0, 2), get("c", 7, 10, 11)]));
    // It cannot take effect before it was called.
    assert.equal(check([put("a", 1, 0, 1), get("b", 2, 2, 3), put("b", 0, 5, undefined)]), false);
  });

  it("checks long random histories of an atomic register", () => {
    // Eight clients; each operation takes effect at a random instant inside its call and return.
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 5; round++) {
      let value: string | undefined;
      let revision = 0;
      const pending: { op: Op; at: number; effect: () => KvOutput }[] = [];
      const ops: Op[] = [];
      const clientFree = new Array<number>(8).fill(0);
      for (let i = 0; i < 400; i++) {
        const c = i % 8;
        const call = clientFree[c] + rand() * 3;
        const at = call + rand() * 5;
        const ret = at + rand() * 5;
        clientFree[c] = ret;
        const kind = rand();
        const v = `v${i}`;
        const expect = rand() < 0.5 ? -1 : Math.floor(rand() * 4);
        pending.push({
          op: { input: { op: "get" }, output: undefined, call, ret },
          at,
          effect: () => {
            if (kind < 0.4) return { ok: true, revision, value };
            revision += 1 + Math.floor(rand() * 2);
            value = v;
            return { ok: true, revision, value };
          },
        });
        const p = pending[pending.length - 1];
        if (kind >= 0.4 && kind < 0.7) p.op = { ...p.op, input: { op: "put", value: v } };
        if (kind >= 0.7) {
          const e = expect;
          p.op = { ...p.op, input: { op: "update", value: v, expect: e } };
          p.effect = () => {
            const want = e < 0 ? revision : e;
            if (want !== revision) return { ok: false };
            revision += 1;
            value = v;
            return { ok: true, revision };
          };
          if (e < 0) p.op = { ...p.op, input: { op: "update", value: v, expect: -1 } };
        }
      }
      // Apply in effect order, fixing "expect current" updates to the revision current at that instant.
      pending.sort((a, b) => a.at - b.at);
      for (const p of pending) {
        const input = p.op.input;
        if (input.op === "update" && input.expect < 0)
          p.op = { ...p.op, input: { ...input, expect: revision } };
        const output = p.effect();
        ops.push({ ...p.op, output });
      }
      const r = checkLinearizable(kvRegister, ops);
      assert.ok(r.linearizable, `round ${round}: ${r.steps} steps${r.gaveUp ? " (gave up)" : ""}`);
    }
  });
});
