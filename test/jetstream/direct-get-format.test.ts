// The direct-get reply's timestamp is formatted from ms and sub-ms parts by a cached fast path; it must
// match rfc3339 of the nanosecond count exactly.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timeStamp } from "../../src/jetstream/api/direct-get.js";
import { rfc3339 } from "../../src/jetstream/json.js";

describe("direct get: timestamps", () => {
  it("formats like rfc3339 for edge and random times", () => {
    const base = 1_764_160_000_000_000_000n;
    const cases = [0n, 1n, 999_999_999n, 1_000_000_000n, 59_999_999_999n, 60_000_000_000n, base, base + 1n];
    for (let i = 0; i < 20_000; i++) {
      const step = i % 3 === 0 ? 1000n : 1n;
      cases.push(base + BigInt(Math.floor(Math.random() * 1e13)) * step);
    }
    for (const ns of cases) {
      const ms = Number(ns / 1_000_000n);
      const subNs = Number(ns % 1_000_000n);
      assert.equal(timeStamp(ms, subNs), rfc3339(ns), String(ns));
    }
  });
});
