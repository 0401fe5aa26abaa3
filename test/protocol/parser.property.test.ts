// Seeded property tests: chunking never changes what the parser reports, and no input makes it throw,
// hang, or report anything after (or besides) a single parse error.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Parser, type ParserLimits } from "../../src/protocol/parser.js";
import {
  type Call,
  calls,
  DEFAULT_LIMITS,
  parseChunks,
  Recorder,
  Rng,
  randomStream,
  splitAt,
} from "./helpers.js";

const SEEDS = Number(process.env.PROTOCOL_PROPERTY_SEEDS ?? 40);
const SMALL_LIMITS: ParserLimits = { maxControlLine: 40, maxPayload: 64 };

function seeds(base: number): number[] {
  return Array.from({ length: SEEDS }, (_, i) => base + i);
}

/** Random splittings of `wire`: few and many cuts, and sometimes 1-byte chunks. */
function splittings(rng: Rng, wire: Buffer, count: number): Buffer[][] {
  const out: Buffer[][] = [];
  for (let k = 0; k < count; k++) {
    const n = rng.pick([1, 2, 5, 20, 100, Math.max(1, wire.length >> 2)]);
    out.push(splitAt(wire, rng.cuts(wire.length, n)));
  }
  return out;
}

/** Parses with a handler that pauses at random calls; the driver resumes at random points and at the end. */
function parseWithRandomPauses(rng: Rng, chunks: Buffer[], limits: ParserLimits): Call[] {
  const rec = new Recorder();
  const p = new Parser(rec, limits);
  rec.after = () => {
    if (rng.bool(0.3)) p.pause();
  };
  for (const c of chunks) {
    if (rng.bool(0.5)) p.resume();
    p.parse(c);
  }
  for (let guard = 0; p.isPaused; guard++) {
    assert.ok(guard < 1_000_000, "resume loop does not end");
    p.resume();
  }
  return rec.calls;
}

function assertWellFormed(got: Call[], label: string): void {
  const errs = got.filter((c) => c[0] === "error");
  assert.ok(errs.length <= 1, `${label}: more than one error`);
  if (errs.length === 1) assert.equal(got[got.length - 1]![0], "error", `${label}: calls after the error`);
}

const ALPHABET = [
  ..."PUBHSNICOTGKMERpubhsnicotgkmer+-0123456789 \t\r\n.*>_",
  "PUB ",
  "HPUB ",
  "SUB ",
  "UNSUB ",
  "PING",
  "PONG",
  "CONNECT {}",
  "INFO {}",
  "+OK",
  "-ERR ",
  "\r\n",
  " 5\r\n",
  " 0\r\n\r\n",
  "\xff",
  "\x00",
];

function garbage(rng: Rng, n: number): Buffer {
  let s = "";
  while (s.length < n) s += rng.pick(ALPHABET);
  return Buffer.from(s, "latin1");
}

function mutate(rng: Rng, wire: Buffer): Buffer {
  let b = Buffer.from(wire);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = rng.int(b.length);
    switch (rng.int(6)) {
      case 0: // overwrite one byte
        b[at] = rng.bool(0.5) ? rng.int(256) : garbage(rng, 1)[0]!;
        break;
      case 1: // delete a span
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
        break;
      case 2: // insert garbage
        b = Buffer.concat([b.subarray(0, at), garbage(rng, 1 + rng.int(6)), b.subarray(at)]);
        break;
      case 3: {
        // duplicate a span
        const end = Math.min(b.length, at + 1 + rng.int(40));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      default: // change a digit (sizes)
        for (let i = at; i < b.length; i++) {
          if (b[i]! >= 0x30 && b[i]! <= 0x39) {
            b[i] = 0x30 + rng.int(10);
            break;
          }
        }
    }
  }
  return b;
}

describe("Parser properties: valid streams", () => {
  it("produce the generator's calls, however they are split", () => {
    for (const seed of seeds(1000)) {
      const rng = new Rng(seed);
      const { wire, calls: expected } = randomStream(rng, 40);
      const whole = calls(wire);
      assert.deepEqual(whole, expected, `seed ${seed}: one chunk`);
      for (const chunks of splittings(rng, wire, 25)) {
        assert.deepEqual(parseChunks(chunks).rec.calls, whole, `seed ${seed}: ${chunks.length} chunks`);
      }
    }
  });

  it("produce the same calls in 1-byte chunks", () => {
    for (const seed of seeds(2000).slice(0, 10)) {
      const rng = new Rng(seed);
      const { wire, calls: expected } = randomStream(rng, 30);
      const chunks = [...wire].map((x) => Buffer.from([x]));
      assert.deepEqual(parseChunks(chunks).rec.calls, expected, `seed ${seed}`);
    }
  });

  it("produce the same calls with random pauses and resumes", () => {
    for (const seed of seeds(3000)) {
      const rng = new Rng(seed);
      const { wire, calls: expected } = randomStream(rng, 30);
      for (const chunks of splittings(rng, wire, 5)) {
        assert.deepEqual(parseWithRandomPauses(rng, chunks, DEFAULT_LIMITS), expected, `seed ${seed}`);
      }
    }
  });

  it("produce the same calls with payloads far larger than the chunks", () => {
    for (const seed of seeds(4000).slice(0, 10)) {
      const rng = new Rng(seed);
      const { wire, calls: expected } = randomStream(rng, 10, 200_000);
      const chunks = splitAt(wire, rng.cuts(wire.length, 200));
      assert.deepEqual(parseChunks(chunks).rec.calls, expected, `seed ${seed}`);
    }
  });
});

describe("Parser properties: malformed input", () => {
  function check(rng: Rng, input: Buffer, limits: ParserLimits, label: string): void {
    const whole = calls(input, limits);
    assertWellFormed(whole, label);
    for (const chunks of splittings(rng, input, 6)) {
      const got = parseChunks(chunks, limits).rec.calls;
      assert.deepEqual(got, whole, `${label}: ${chunks.length} chunks`);
    }
    assert.deepEqual(
      parseWithRandomPauses(rng, splitAt(input, rng.cuts(input.length, 10)), limits),
      whole,
      label,
    );
  }

  it("never throw on random garbage, and end in valid calls or exactly one error", () => {
    for (const seed of seeds(5000)) {
      for (let k = 0; k < 10; k++) {
        const rng = new Rng(seed * 100 + k);
        const input = garbage(rng, 1 + rng.int(600));
        check(rng, input, rng.bool(0.5) ? SMALL_LIMITS : DEFAULT_LIMITS, `seed ${seed}/${k}`);
      }
    }
  });

  it("never throw on mutated valid streams, and agree across splittings", () => {
    let errors = 0;
    let clean = 0;
    for (const seed of seeds(6000)) {
      for (let k = 0; k < 10; k++) {
        const rng = new Rng(seed * 100 + k);
        const { wire } = randomStream(rng, 12, 80);
        const input = mutate(rng, wire);
        const limits = rng.bool(0.3) ? SMALL_LIMITS : DEFAULT_LIMITS;
        check(rng, input, limits, `seed ${seed}/${k}`);
        if (calls(input, limits).some((c) => c[0] === "error")) errors++;
        else clean++;
      }
    }
    // Both outcomes must actually be exercised.
    assert.ok(errors > 0 && clean > 0, `errors ${errors}, clean ${clean}`);
  });

  it("reports every error kind somewhere in the fuzzed inputs", () => {
    const kinds = new Set<string>();
    for (const seed of seeds(7000)) {
      for (let k = 0; k < 10; k++) {
        const rng = new Rng(seed * 100 + k);
        const input = rng.bool(0.5)
          ? garbage(rng, 1 + rng.int(300))
          : mutate(rng, randomStream(rng, 8, 80).wire);
        for (const c of calls(input, SMALL_LIMITS)) if (c[0] === "error") kinds.add(c[1]);
      }
    }
    assert.deepEqual(
      [...kinds].sort(),
      ["bad_arguments", "client_error", "max_control_line", "max_payload", "unknown_operation"].sort(),
    );
  });
});
