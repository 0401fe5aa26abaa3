import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compileMapping,
  fnv1a32,
  MappingError,
  mappingProblem,
  mappingsFromClaims,
  mappingsFromConfig,
  partitionOf,
  SubjectMapper,
  SubjectTransform,
  transformTokenize,
  validateMapping,
} from "../../src/subjects/mapping.js";

// Expected values marked "nats-server 2.9.10" were observed by running it with the same mapping and
// subscribing to `>`.

function tr(src: string, dest: string): (subject: string) => string {
  const t = validateMapping(src, dest);
  return (s) => {
    assert.ok(t.matches(s), `${s} should match ${src}`);
    return t.transform(s);
  };
}

function problem(src: string, dest: string): string {
  try {
    validateMapping(src, dest);
    return "ok";
  } catch (err) {
    assert.ok(err instanceof MappingError);
    return err.message;
  }
}

describe("subject transforms", () => {
  it("reuses wildcards by number, as $n or {{wildcard(n)}}, and carries '>' over", () => {
    assert.equal(tr("a.*.*", "b.$2.$1")("a.x.y"), "b.y.x");
    assert.equal(tr("a.*.*", "b.{{wildcard(2)}}.{{ Wildcard( 1 ) }}")("a.x.y"), "b.y.x");
    assert.equal(tr("a.*.>", "b.$1.>")("a.x.y.z"), "b.x.y.z");
    assert.equal(tr("a.>", "b.>")("a.q.r"), "b.q.r");
    assert.equal(tr(">", ">")("any.thing"), "any.thing");
    assert.equal(tr("a.*", "b.$1.$1")("a.x"), "b.x.x");
    assert.equal(tr("plain", "other.subject")("plain"), "other.subject");
    // `$` followed by something else than a number is a literal.
    assert.equal(tr("a.*", "$b.$1")("a.x"), "$b.x");
    // nats-server 2.9.10: `$0` reads the first token (a map lookup that finds nothing).
    assert.equal(tr("z.*", "zz.$0.{{wildcard(1)}}")("z.k"), "zz.z.k");
    assert.equal(SubjectTransform.compile("a.*", "b.$1").apply("c.x"), undefined);
    assert.equal(SubjectTransform.compile("", "c.>").apply("any.thing"), "c.any.thing");
  });

  it("partitions with nats-server's FNV-1a hash", () => {
    assert.equal(fnv1a32(""), 0x811c9dc5);
    assert.equal(fnv1a32("a"), 0xe40c292c);
    assert.equal(fnv1a32("foobar"), 0xbf9cf968);
    // nats-server 2.9.10.
    const p10 = tr("p.*", "pp.{{partition(10,1)}}.$1");
    const seen = ["a", "b", "c", "foo", "bar", "0", "1", "12345"].map((k) => p10(`p.${k}`));
    assert.deepEqual(seen, [
      "pp.0.a",
      "pp.7.b",
      "pp.8.c",
      "pp.3.foo",
      "pp.2.bar",
      "pp.3.0",
      "pp.4.1",
      "pp.4.12345",
    ]);
    const q7 = tr("q.*.*", "qq.{{partition(7,1,2)}}.$1.$2");
    assert.deepEqual(["q.a.b", "q.ab.c", "q.x.yz"].map(q7), ["qq.2.a.b", "qq.5.ab.c", "qq.4.x.yz"]);
    const p100 = tr("P.*", "o.{{partition(100,1)}}");
    assert.deepEqual(
      ["order-1", "order-2", "order-3", "42", "ÄÖ"].map((k) => p100(`P.${k}`)),
      ["o.49", "o.92", "o.11", "o.11", "o.23"],
    );
    assert.equal(
      tr("m.*.*.>", "o.{{ Wildcard( 2 ) }}.{{partition(3, 2, 1)}}.$1.>")("m.a.b.c.d"),
      "o.b.2.a.c.d",
    );
    assert.equal(partitionOf("ab", 5), fnv1a32("ab") % 5);
  });

  it("splits and slices tokens as nats-server 2.9.10 does", () => {
    const words = ["a", "abc", "abcd", "abcdefg", "abcdef"];
    const run = (dest: string) => words.map((w) => tr("x.*", dest)(`x.${w}`));
    assert.deepEqual(run("o.{{splitFromLeft(1,3)}}"), ["o.a", "o.abc", "o.abc.d", "o.abc.defg", "o.abc.def"]);
    assert.deepEqual(run("o.{{splitFromRight(1,3)}}"), [
      "o.a",
      "o.abc",
      "o.a.bcd",
      "o.abcd.efg",
      "o.abc.def",
    ]);
    assert.deepEqual(run("o.{{sliceFromLeft(1,3)}}"), [
      "o.a",
      "o.abc",
      "o.abc.d",
      "o.abc.def.g",
      "o.abc.def",
    ]);
    assert.deepEqual(run("o.{{sliceFromRight(1,3)}}"), [
      "o.a",
      "o.abc",
      "o.a.bcd",
      "o.a.bcd.efg",
      "o.abc.def",
    ]);
    const split = tr("t.*", "tt.{{split(1,-)}}");
    assert.deepEqual(["t.-a--b-", "t.ab", "t.-"].map(split), ["tt.a.b", "tt.ab", "tt."]);
    assert.equal(tr("s.*", "ss.{{split(1, )}}")("s.abc"), "ss.a.b.c");
    // left/right exist in the transform, but mapping validation refuses them (as nats-server 2.11).
    assert.equal(SubjectTransform.compile("x.*", "o.{{left(1,2)}}").transform("x.abcd"), "o.ab");
    assert.equal(SubjectTransform.compile("x.*", "o.{{right(1,2)}}").transform("x.abcd"), "o.cd");
    assert.deepEqual([...SubjectTransform.compile("x.*", "o.{{right(1,2)}}.$1").functions].sort(), [
      "right",
      "wildcard",
    ]);
  });

  it("refuses bad templates with nats-server's errors", () => {
    const cases: [string, string, string][] = [
      ["a.*", "b.$2", "invalid mapping destination: wildcard index out of range in $2: [2]"],
      [
        "a.*",
        "b.{{partition(3,1,2)}}",
        "invalid mapping destination: wildcard index out of range in {{partition(3,1,2)}}: [2]",
      ],
      ["a.>", "b.$1.>", "invalid mapping destination: wildcard index out of range in $1"],
      ["a", "b.$1", "invalid mapping destination: wildcard index out of range in $1"],
      ["a.*", "b.>", "invalid subject"],
      ["a.>", "b", "invalid subject"],
      ["a.*", "b.*", "invalid subject"],
      ["a..b", "c", "invalid subject"],
      ["a.*", "", "invalid mapping destination: invalid transform in "],
      ["a.*", "b..c", "invalid mapping destination: invalid transform in "],
      ["a.*", "b.>.c", "invalid mapping destination: invalid transform in c"],
      ["a.*", "b. x", "invalid mapping destination: invalid transform"],
      ["a.*", "b.{{foo(1)}}", "invalid mapping destination: unknown function in {{foo(1)}}"],
      ["a.*", "b.{{ }}", "invalid mapping destination: unknown function in {{ }}"],
      ["a.*", "b.{{left(1,2)}}", "invalid mapping destination: unknown function in {{left(1,2)}}"],
      [
        "a.*",
        "b.{{wildcard()}}",
        "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}",
      ],
      [
        "a.*",
        "b.{{wildcard(1,2)}}",
        "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}",
      ],
      [
        "a.*",
        "b.{{partition(3)}}",
        "invalid mapping destination: not enough arguments passed to the function in {{partition(3)}}",
      ],
      [
        "a.*",
        "b.{{partition(x,1)}}",
        "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(x,1)}}",
      ],
      [
        "a.*",
        "b.{{split(1,x y)}}",
        "invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,x y)}}",
      ],
      [
        "a.*",
        "b.{{splitFromLeft(1)}}",
        "invalid mapping destination: not enough arguments passed to the function in {{splitFromLeft(1)}}",
      ],
      [
        "a.*",
        "b.{{sliceFromRight(1,2,3)}}",
        "invalid mapping destination: too many arguments passed to the function in {{sliceFromRight(1,2,3)}}",
      ],
    ];
    for (const [src, dest, expected] of cases)
      assert.equal(problem(src, dest), expected, `${src} -> ${dest}`);
    // Not functions: too short, or not wrapped in {{ }}.
    assert.equal(problem("a.*", "b.{{}}"), "ok");
    assert.equal(problem("a.*", "b.x{{wildcard(1)}}"), "ok");
  });

  it("tokenizes wildcards into references", () => {
    assert.equal(transformTokenize("foo.*.bar.*.>"), "foo.$1.bar.$2.>");
  });
});

describe("weighted mappings", () => {
  it("refuses duplicates, weights over 100 and bad sources", () => {
    const p = (destinations: { subject: string; weight: number; cluster?: string }[], source = "a.*") =>
      mappingProblem({ source, destinations });
    assert.equal(
      p([
        { subject: "b.$1", weight: 10 },
        { subject: "b.$1", weight: 10 },
      ]),
      'duplicate entry for "b.$1"',
    );
    assert.equal(p([{ subject: "b.$1", weight: 101 }]), "individual weights need to be <= 100");
    assert.equal(
      p([
        { subject: "b.$1", weight: 60 },
        { subject: "c.$1", weight: 50 },
      ]),
      "total weight needs to be <= 100",
    );
    // Totals are per cluster.
    assert.equal(
      p([
        { subject: "b.$1", weight: 60 },
        { subject: "c.$1", weight: 50, cluster: "east" },
      ]),
      undefined,
    );
    assert.equal(p([{ subject: "b", weight: 100 }], "a..b"), "invalid subject");
  });

  it("draws destinations by weight; the remainder keeps the subject", () => {
    const m = new SubjectMapper([
      {
        source: "w.*",
        destinations: [
          { subject: "x.$1", weight: 20 },
          { subject: "y.$1", weight: 30 },
        ],
      },
    ]);
    const counts = new Map<string, number>();
    const draws = 10_000;
    for (let i = 0; i < draws; i++) {
      const s = m.map("w.k");
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ["w.k", "x.k", "y.k"]);
    const near = (s: string, share: number) => {
      const got = (counts.get(s) ?? 0) / draws;
      assert.ok(Math.abs(got - share) < 0.03, `${s}: ${got} vs ${share}`);
    };
    near("x.k", 0.2);
    near("y.k", 0.3);
    near("w.k", 0.5);
  });

  it("drops the remainder when the source is listed itself", () => {
    const m = new SubjectMapper([{ source: "loss", destinations: [{ subject: "loss", weight: 50 }] }]);
    let dropped = 0;
    for (let i = 0; i < 2000; i++) {
      const s = m.map("loss");
      assert.ok(s === "" || s === "loss");
      if (s === "") dropped++;
    }
    assert.ok(dropped > 800 && dropped < 1200, `dropped ${dropped}`);
  });

  it("applies the first matching mapping, and returns unmapped subjects as they are", () => {
    const m = new SubjectMapper([
      { source: "a.b", destinations: [{ subject: "first", weight: 100 }] },
      { source: "a.*", destinations: [{ subject: "second.$1", weight: 100 }] },
    ]);
    assert.equal(m.map("a.b"), "first");
    assert.equal(m.map("a.c"), "second.c");
    assert.equal(m.map("a.c"), "second.c");
    const subject = ["un", "mapped"].join(".");
    assert.equal(m.map(subject), subject);
    // A later mapping of the same source replaces the earlier one.
    const r = new SubjectMapper([
      { source: "s", destinations: [{ subject: "one", weight: 100 }] },
      { source: "s", destinations: [{ subject: "two", weight: 100 }] },
    ]);
    assert.equal(r.map("s"), "two");
    assert.equal(r.size, 1);
  });

  it("uses the destinations of this server's cluster, or the unscoped ones", () => {
    let cluster: string | undefined;
    const m = new SubjectMapper(
      [
        {
          source: "c.*",
          destinations: [
            { subject: "east.$1", weight: 100, cluster: "east" },
            { subject: "west.$1", weight: 100, cluster: "west" },
            { subject: "any.$1", weight: 100 },
          ],
        },
        { source: "only", destinations: [{ subject: "only.east", weight: 100, cluster: "east" }] },
      ],
      () => cluster,
    );
    assert.equal(m.map("c.1"), "any.1");
    assert.equal(m.map("only"), "only");
    cluster = "east";
    assert.equal(m.map("c.1"), "east.1");
    assert.equal(m.map("only"), "only.east");
    cluster = "west";
    assert.equal(m.map("c.1"), "west.1");
    assert.equal(m.map("only"), "only");
    cluster = "north";
    assert.equal(m.map("c.1"), "any.1");
  });

  it("a mapping whose weights are all scoped elsewhere keeps the subject", () => {
    const c = compileMapping({ source: "x", destinations: [{ subject: "y", weight: 100, cluster: "w" }] });
    assert.equal(c.dests.length, 1);
    assert.equal(c.dests[0].upTo, 100);
    assert.equal(c.dests[0].tr.transform("x"), "x");
  });

  it("a split that leaves an empty token drops the message", () => {
    const m = new SubjectMapper([
      { source: "t.*", destinations: [{ subject: "tt.{{split(1,-)}}", weight: 100 }] },
    ]);
    assert.equal(m.map("t.a-b"), "tt.a.b");
    assert.equal(m.map("t.-"), "");
  });
});

describe("mapping config", () => {
  it("reads strings, single destinations and weighted lists", () => {
    const got = mappingsFromConfig(
      {
        "a.*": "b.$1",
        one: { destination: "two", weight: "40%" },
        w: [
          { dest: "w.a", weight: 30 },
          { destination: "w.b", weight: 20, cluster: "east" },
        ],
      },
      "mappings",
    );
    assert.deepEqual(got, [
      { source: "a.*", destinations: [{ subject: "b.$1", weight: 100 }] },
      { source: "one", destinations: [{ subject: "two", weight: 40 }] },
      {
        source: "w",
        destinations: [
          { subject: "w.a", weight: 30 },
          { subject: "w.b", weight: 20, cluster: "east" },
        ],
      },
    ]);
  });

  it("names the mapping in errors", () => {
    const err = (v: unknown) => {
      try {
        mappingsFromConfig(v, "mappings");
        return "ok";
      } catch (e) {
        assert.ok(e instanceof MappingError);
        return e.message;
      }
    };
    assert.equal(
      err({ "a.*": "b.$2" }),
      'mappings: Error adding mapping for "a.*" to "b.$2" : invalid mapping destination: wildcard index out of range in $2: [2]',
    );
    assert.equal(
      err({
        "a.*": [
          { destination: "b.$1", weight: 60 },
          { destination: "c.$1", weight: 50 },
        ],
      }),
      'mappings: Error adding mapping for "a.*" : total weight needs to be <= 100',
    );
    assert.equal(err({ "a..b": "c" }), 'mappings: Subject "a..b" is not a valid subject');
    assert.equal(
      err({ a: [{ destination: "b", weight: 101 }] }),
      "mappings.a[0].weight: Invalid weight 101 for mapping destination",
    );
    assert.equal(
      err({ a: [{ destination: "b" }] }),
      'mappings.a[0]: Missing weight for mapping destination "b"',
    );
    assert.equal(
      err({ a: [{ destination: "b", weight: 1, foo: 1 }] }),
      'mappings.a[0]: Unknown field "foo" for mapping destination',
    );
    assert.equal(err({ a: 5 }), "mappings.a: Expected an entry for the mapping destination");
    assert.equal(err("x"), 'mappings: expected a map of subjects to destinations, got "x"');
  });

  it("reads JWT mappings; weight 0 means 100", () => {
    assert.deepEqual(
      mappingsFromClaims({
        "in.*": [{ subject: "out.$1" }],
        w: [
          { subject: "w.a", weight: 30, cluster: "east" },
          { subject: "w.b", weight: 20 },
        ],
      }),
      [
        { source: "in.*", destinations: [{ subject: "out.$1", weight: 100 }] },
        {
          source: "w",
          destinations: [
            { subject: "w.a", weight: 30, cluster: "east" },
            { subject: "w.b", weight: 20 },
          ],
        },
      ],
    );
    assert.deepEqual(mappingsFromClaims(undefined), []);
  });
});
