import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConfigError,
  durationFromConfig,
  formatGoDuration,
  parseConfig,
  parseDuration,
  parseGoDuration,
  parseStorageSize,
} from "../../src/config/index.js";

describe("parseDuration", () => {
  it("parses Go duration strings to milliseconds", () => {
    const cases: Array<[string, number]> = [
      ["2m", 120_000],
      ["500ms", 500],
      ["1h30m", 5_400_000],
      ["1.5s", 1500],
      ["10us", 0.01],
      ["10µs", 0.01],
      ["10μs", 0.01],
      ["250ns", 0.00025],
      ["0", 0],
      ["-1s", -1000],
      ["+2s", 2000],
      ["1h2m3s4ms", 3_723_004],
      [".5s", 500],
      ["1.s", 1000],
      ["2h45m30.5s", 9_930_500],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text, "ping_interval"), ms, text);
  });

  it("treats bare numbers as seconds", () => {
    assert.equal(parseDuration(5, "ping_interval"), 5000);
    assert.equal(parseDuration(0.5, "ping_interval"), 500);
  });

  it("warns about bare numbers like nats-server", () => {
    assert.deepEqual(durationFromConfig("2s", "write_deadline"), { ms: 2000 });
    assert.deepEqual(durationFromConfig(2, "write_deadline"), {
      ms: 2000,
      warning: 'invalid use of field "write_deadline": write_deadline should be converted to a duration',
    });
  });

  it("shows why unquoted 2m is a trap: it lexes as 2,000,000 seconds", () => {
    const conf = parseConfig('ping_interval: 2m\nquoted: "2m"', { env: {} });
    assert.equal(durationFromConfig(conf.ping_interval, "ping_interval").ms, 2_000_000_000);
    assert.equal(durationFromConfig(conf.quoted, "ping_interval").ms, 120_000);
  });

  it("rejects malformed durations with Go's wording, naming the field", () => {
    const cases: Array<[unknown, RegExp]> = [
      ["5x", /^error parsing ping_interval: time: unknown unit "x" in duration "5x"$/],
      ["", /^error parsing ping_interval: time: invalid duration ""$/],
      ["1", /time: missing unit in duration "1"/],
      ["1h30", /missing unit/],
      ["s", /invalid duration "s"/],
      [".s", /invalid duration/],
      ["1e3s", /unknown unit "e"/],
      ["9999999h", /invalid duration/],
      [true, /ping_interval must be a duration string/],
      [[1], /ping_interval must be a duration string .*an array/],
      [Number.NaN, /must be a duration string/],
      [undefined, /must be a duration string/],
    ];
    for (const [value, re] of cases) {
      assert.throws(
        () => parseDuration(value, "ping_interval"),
        (err: unknown) => err instanceof ConfigError && re.test(err.message),
        String(value),
      );
    }
  });

  it("puts a given position in the error", () => {
    assert.throws(
      () => parseDuration("bad", "write_deadline", { file: "s.conf", line: 3, column: 1 }),
      (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith("s.conf:3:1: error parsing write_deadline"),
    );
  });

  it("parseGoDuration keeps nanosecond precision", () => {
    assert.equal(parseGoDuration("1.000000001s"), 1_000_000_001n);
    assert.equal(parseGoDuration("2562047h47m16.854775807s"), 2n ** 63n - 1n);
    assert.equal(parseGoDuration("-2562047h47m16.854775808s"), -(2n ** 63n));
    assert.throws(() => parseGoDuration("2562047h47m16.854775808s"), /invalid duration/);
  });
});

describe("formatGoDuration", () => {
  it("matches Go's Duration.String()", () => {
    const cases: Array<[number, string]> = [
      [0, "0s"],
      [0.000001, "1ns"],
      [0.00025, "250ns"],
      [0.0015, "1.5µs"],
      [0.01, "10µs"],
      [1, "1ms"],
      [1.5, "1.5ms"],
      [500, "500ms"],
      [999.999999, "999.999999ms"],
      [1000, "1s"],
      [1500, "1.5s"],
      [62_000, "1m2s"],
      [60_000, "1m0s"],
      [61_500, "1m1.5s"],
      [3_600_000, "1h0m0s"],
      [7_200_000, "2h0m0s"],
      [3_723_004, "1h2m3.004s"],
      [-1500, "-1.5s"],
      [-0.5, "-500µs"],
      [100 * 3_600_000, "100h0m0s"],
    ];
    for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, String(ms));
  });

  it("round-trips with parseDuration", () => {
    for (const text of ["1h2m3.5s", "2m0s", "10µs", "500ms", "1.000000001s", "-3m1s"]) {
      assert.equal(formatGoDuration(parseDuration(text, "x")), text);
    }
  });

  it("clamps to the int64 range and maps NaN to 0s", () => {
    assert.equal(formatGoDuration(Number.POSITIVE_INFINITY), "2562047h47m16.854775807s");
    assert.equal(formatGoDuration(Number.NEGATIVE_INFINITY), "-2562047h47m16.854775808s");
    assert.equal(formatGoDuration(1e30), "2562047h47m16.854775807s");
    assert.equal(formatGoDuration(Number.NaN), "0s");
  });
});

describe("parseStorageSize", () => {
  it("accepts integers, including suffix-expanded ones", () => {
    const conf = parseConfig("a: 1G\nb: 1GB\nc: 512MB\nd: 0\ne: -1", { env: {} });
    assert.equal(parseStorageSize(conf.a, "max_mem"), 1_000_000_000);
    assert.equal(parseStorageSize(conf.b, "max_mem"), 2 ** 30);
    assert.equal(parseStorageSize(conf.c, "max_file"), 512 * 2 ** 20);
    assert.equal(parseStorageSize(conf.d, "max_file"), 0);
    assert.equal(parseStorageSize(conf.e, "max_file"), -1);
  });

  it("reads strings with K/M/G/T/P as binary multiples", () => {
    const cases: Array<[string, number]> = [
      ["1K", 1024],
      ["1M", 2 ** 20],
      ["1G", 2 ** 30],
      ["2T", 2 * 2 ** 40],
      ["1P", 2 ** 50],
      ["512MB", 512 * 2 ** 20],
      ["10GiB", 10 * 2 ** 30],
      ["1gb", 2 ** 30],
      ["1.5G", 1.5 * 2 ** 30],
      ["1024", 1024],
      ["100B", 100],
      [" 8 M ", 8 * 2 ** 20],
      ["", 0],
    ];
    for (const [text, bytes] of cases) assert.equal(parseStorageSize(text, "max_mem"), bytes, text);
  });

  it("rejects other values, naming the field", () => {
    for (const value of ["x", "1X", "G", "-1G", "1.5", true, 1.5, [], {}, null, new Date(0)]) {
      assert.throws(
        () => parseStorageSize(value, "jetstream.max_mem"),
        (err: unknown) => err instanceof ConfigError && err.message.includes("jetstream.max_mem"),
        JSON.stringify(value),
      );
    }
  });
});
