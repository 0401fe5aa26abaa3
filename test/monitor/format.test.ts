import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goDuration, nanos, uptime } from "../../src/monitor/format.js";
import { decodeBool, decodeInt, decodeUint, paging } from "../../src/monitor/params.js";
import { HttpError } from "../../src/monitor/types.js";

describe("Go duration strings", () => {
  it("formats like time.Duration.String()", () => {
    assert.equal(goDuration(0), "0s");
    assert.equal(goDuration(0.0005), "500ns");
    assert.equal(goDuration(0.676), "676µs");
    assert.equal(goDuration(2.967888), "2.967888ms");
    assert.equal(goDuration(1.5), "1.5ms");
    assert.equal(goDuration(1000), "1s");
    assert.equal(goDuration(62_500), "1m2.5s");
    assert.equal(goDuration(3 * 3600_000), "3h0m0s");
    assert.equal(goDuration(-1.5), "-1.5ms");
  });

  it("formats uptime and idle in whole seconds, with days and years", () => {
    assert.equal(uptime(999), "0s");
    assert.equal(uptime(42_000), "42s");
    assert.equal(uptime(75_000), "1m15s");
    assert.equal(uptime(3600_000), "1h0m0s");
    assert.equal(uptime((2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000), "2d3h4m5s");
    assert.equal(uptime(366 * 86400_000), "1y1d0h0m0s");
    assert.equal(nanos(120_000), 120_000_000_000);
  });
});

describe("query parameters", () => {
  const q = (s: string) => new URLSearchParams(s);
  const rejects = (f: () => unknown, text: string) =>
    assert.throws(f, (e: unknown) => e instanceof HttpError && e.status === 400 && e.message === text);

  it("decodes booleans as strconv.ParseBool does", () => {
    for (const v of ["1", "t", "T", "true", "TRUE", "True"])
      assert.equal(decodeBool(q(`subs=${v}`), "subs"), true);
    for (const v of ["", "0", "f", "false"]) assert.equal(decodeBool(q(`subs=${v}`), "subs"), false);
    assert.equal(decodeBool(q(""), "subs"), false);
    rejects(
      () => decodeBool(q("subs=yes"), "subs"),
      `Error decoding boolean for 'subs': strconv.ParseBool: parsing "yes": invalid syntax`,
    );
  });

  it("decodes integers with Go's error texts", () => {
    assert.equal(decodeInt(q("limit=-5"), "limit"), -5);
    rejects(
      () => decodeInt(q("limit=abc"), "limit"),
      `Error decoding int for 'limit': strconv.Atoi: parsing "abc": invalid syntax`,
    );
    rejects(
      () => decodeInt(q("limit=99999999999999999999"), "limit"),
      `Error decoding int for 'limit': strconv.Atoi: parsing "99999999999999999999": value out of range`,
    );
    rejects(
      () => decodeUint(q("cid=-1"), "cid"),
      `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`,
    );
    assert.deepEqual(paging(q("offset=-1&limit=0"), 1024), { offset: 0, limit: 1024 });
  });
});
