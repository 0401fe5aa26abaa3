// Property: with random wildcard subscriptions in several accounts and random publishes, every client
// receives exactly what a model of "same account, or through a declared stream import" predicts: nothing
// ever crosses an account boundary without an import.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { subjectMatches } from "../../src/subjects/pattern.js";
import { startLattice } from "../helpers/servers.js";

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACCOUNTS = ["A", "B", "C", "D"];
const TOKENS = ["a", "b", "c"];

/** Stream imports of the test config: importer ← exporter, subject, prefix. */
const IMPORTS = [
  { into: "B", from: "A", subject: "a.>", prefix: "imp" },
  { into: "C", from: "B", subject: "imp.a.b.>", prefix: undefined },
];

function config(withImports: boolean): Record<string, unknown> {
  const accounts: Record<string, unknown> = {};
  for (const name of ACCOUNTS) {
    const acc: Record<string, unknown> = {
      users: [0, 1].map((i) => ({ user: `${name}${i}`, password: "p" })),
    };
    if (withImports) {
      const exports = IMPORTS.filter((i) => i.from === name).map((i) => ({ stream: i.subject }));
      const imports = IMPORTS.filter((i) => i.into === name).map((i) => ({
        stream: { account: i.from, subject: i.subject },
        ...(i.prefix ? { prefix: i.prefix } : {}),
      }));
      if (exports.length) acc.exports = exports;
      if (imports.length) acc.imports = imports;
    }
    accounts[name] = acc;
  }
  return { accounts };
}

function randomSubject(r: () => number, wildcards: boolean): string {
  const n = 1 + Math.floor(r() * 4);
  const toks: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (wildcards && i === n - 1 && x < 0.2) toks.push(">");
    else if (wildcards && x < 0.35) toks.push("*");
    else toks.push(TOKENS[Math.floor(r() * TOKENS.length)]);
  }
  return toks.join(".");
}

/**
 * Where a message published in `account` on `subject` ends up: (account, subject) pairs. Stream imports
 * take one hop (what B imported from A is not passed on to C), as in nats-server.
 */
function destinations(account: string, subject: string, withImports: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [[account, subject]];
  if (!withImports) return out;
  for (const imp of IMPORTS) {
    if (imp.from === account && subjectMatches(imp.subject, subject)) {
      out.push([imp.into, imp.prefix ? `${imp.prefix}.${subject}` : subject]);
    }
  }
  return out;
}

async function round(seed: number, withImports: boolean): Promise<void> {
  const r = rng(seed);
  const srv = await startLattice(config(withImports));
  const clients: Array<{ id: string; account: string; nc: NatsConnection }> = [];
  try {
    for (const account of ACCOUNTS) {
      for (const i of [0, 1]) {
        const nc = await connect({ servers: srv.url, user: `${account}${i}`, pass: "p" });
        clients.push({ id: `${account}${i}`, account, nc });
      }
    }
    const subs: Array<{ client: string; account: string; pattern: string }> = [];
    const got: string[] = [];
    for (let k = 0; k < 40; k++) {
      const c = clients[Math.floor(r() * clients.length)];
      const pattern = k < 4 ? ">" : randomSubject(r, true);
      subs.push({ client: c.id, account: c.account, pattern });
      c.nc.subscribe(pattern, {
        callback: (_e, m) => void got.push(`${c.id} ${pattern} ${m.subject} ${m.string()}`),
      });
    }
    for (const c of clients) await c.nc.flush();
    const expected: string[] = [];
    for (let k = 0; k < 300; k++) {
      const c = clients[Math.floor(r() * clients.length)];
      const subject = randomSubject(r, false);
      const data = `${k}`;
      c.nc.publish(subject, data);
      for (const [account, subj] of destinations(c.account, subject, withImports)) {
        for (const s of subs) {
          if (s.account === account && subjectMatches(s.pattern, subj)) {
            expected.push(`${s.client} ${s.pattern} ${subj} ${data}`);
          }
        }
      }
    }
    for (const c of clients) await c.nc.flush();
    const deadline = Date.now() + 3000;
    while (got.length < expected.length && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(expected.length > 100, `seed ${seed}: only ${expected.length} deliveries expected`);
    assert.deepEqual(got.sort(), expected.sort(), `seed ${seed}`);
  } finally {
    for (const c of clients) await c.nc.close();
    await srv.close();
  }
}

describe("account isolation (property)", () => {
  it("nothing crosses accounts without imports", async () => {
    for (const seed of [1, 2, 3, 4]) await round(seed, false);
  });

  it("only declared stream imports cross accounts, one hop each (prefixes included)", async () => {
    for (const seed of [11, 12, 13, 14]) await round(seed, true);
  });
});
