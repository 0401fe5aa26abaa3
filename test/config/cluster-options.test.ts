import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FlagError, parseServerFlags } from "../../src/cli/flags.js";
import { loadOptions } from "../../src/cli/server-command.js";
import { clusterFrom, gatewayFrom, leafNodesFrom } from "../../src/config/cluster-options.js";
import {
  asBool,
  asDuration,
  asInt,
  asSeconds,
  asSize,
  asString,
  asStringList,
  parseListen,
} from "../../src/config/decode.js";
import { parseConfig } from "../../src/config/index.js";
import { applyConfig, OptionsError, validateOptions } from "../../src/config/server-options.js";
import { defaultOptions, type ServerOptions } from "../../src/server/options.js";
import { type CertFiles, hasOpenssl, makeCerts } from "../tls/certs.js";

/** Decodes config text as the server does; returns the options and the warnings. */
function load(text: string, dir = process.cwd()): { opts: ServerOptions; warnings: string[] } {
  const warnings: string[] = [];
  const opts = applyConfig(defaultOptions(), parseConfig(text, { env: {} }), (w) => warnings.push(w), dir);
  validateOptions(opts);
  return { opts, warnings };
}

function refuses(text: string, message: RegExp): void {
  assert.throws(
    () => load(text),
    (err: Error) => {
      assert.ok(err instanceof OptionsError, `expected an OptionsError, got ${err}`);
      assert.match(err.message, message);
      return true;
    },
  );
}

const USER_SEED = "SUACPTZQAUNESBIDANPAONJIFJH6VWWDU42W623ZOEONI6YQQVL4CG77LQ";

describe("config decode: value converters", () => {
  it("converts and names the option on wrong types", () => {
    assert.equal(asInt("42", "x.port"), 42);
    assert.throws(() => asInt("x", "cluster.port"), /^Error: cluster\.port: expected an integer, got "x"$/);
    assert.equal(asString(7, "n"), "7");
    assert.throws(() => asString([1], "n"), /n: expected a string, got an array/);
    assert.equal(asBool("enabled", "b"), true);
    assert.equal(asBool("off", "b"), false);
    assert.throws(() => asBool("maybe", "b"), OptionsError);
    assert.deepEqual(asStringList("a", "l"), ["a"]);
    assert.deepEqual(asStringList(["a", "b"], "l"), ["a", "b"]);
    assert.throws(() => asStringList(["a", 1], "l"), /l\[1\]: expected a string, got 1/);
    assert.equal(asSize("1K", "s"), 1024);
    assert.throws(() => asSize("lots", "s"), OptionsError);
    assert.equal(asSeconds(2.5, "t"), 2500);
    assert.equal(asSeconds("1m", "t"), 60_000);
    assert.throws(() => asSeconds(-1, "t"), /must not be negative/);
  });

  it("reads durations, warning about bare numbers as nats-server does", () => {
    const warnings: string[] = [];
    assert.equal(
      asDuration("1.5s", "d", (w) => warnings.push(w)),
      1500,
    );
    assert.equal(
      asDuration(3, "d", (w) => warnings.push(w)),
      3000,
    );
    assert.deepEqual(warnings, ['invalid use of field "d": d should be converted to a duration']);
    assert.throws(
      () => asDuration("5x", "d", () => {}),
      (e: Error) => e instanceof OptionsError,
    );
  });

  it("parses listen addresses", () => {
    assert.deepEqual(parseListen("127.0.0.1:6222", "l"), { host: "127.0.0.1", port: 6222 });
    assert.deepEqual(parseListen(":-1", "l"), { host: undefined, port: -1 });
    assert.deepEqual(parseListen("[::1]:7422", "l"), { host: "::1", port: 7422 });
    assert.deepEqual(parseListen(7422, "l"), { port: 7422 });
    assert.deepEqual(parseListen("7422", "l"), { port: 7422 });
    assert.throws(() => parseListen("127.0.0.1", "l"), /could not parse address string "127.0.0.1"/);
    assert.throws(() => parseListen("h:x", "l"), /could not parse port "x"/);
  });
});

describe("config: cluster { }", () => {
  it("decodes every key", () => {
    const { opts, warnings } = load(`
      cluster {
        name: c1
        listen: "127.0.0.1:6222"
        routes: [ nats://127.0.0.1:6223, "nats-route://u:p@10.0.0.2:6222" ]
        cluster_advertise: "10.0.0.1:6222"
        no_advertise: true
        connect_retries: 5
        connect_backoff: true
        authorization { user: ruser, password: rpass, timeout: 1.5 }
        permissions { import: ["foo.>", "bar"], export: { allow: "pub.>", deny: ["pub.secret"] } }
        pool_size: 2
        accounts: [ A, B ]
        compression: { mode: s2_better, rtt_thresholds: ["10ms", "50ms"] }
        ping_interval: "20s"
        ping_max: 3
        write_deadline: "5s"
      }`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(opts.cluster, {
      name: "c1",
      host: "127.0.0.1",
      port: 6222,
      routes: ["nats://127.0.0.1:6223", "nats-route://u:p@10.0.0.2:6222"],
      advertise: "10.0.0.1:6222",
      noAdvertise: true,
      connectRetries: 5,
      connectBackoff: true,
      authorization: { user: "ruser", password: "rpass", timeoutMs: 1500 },
      permissions: {
        import: { allow: ["foo.>", "bar"] },
        export: { allow: ["pub.>"], deny: ["pub.secret"] },
      },
      poolSize: 2,
      accounts: ["A", "B"],
      compression: "s2_better",
      pingIntervalMs: 20_000,
      pingMax: 3,
      writeDeadlineMs: 5000,
    });
  });

  it("fills in nats-server's defaults", () => {
    assert.deepEqual(load("cluster { name: c1 }").opts.cluster, {
      name: "c1",
      host: "0.0.0.0",
      port: 0,
      routes: [],
      noAdvertise: false,
      connectRetries: 0,
      poolSize: 3,
      accounts: [],
    });
    const c = load("cluster { port: -1, pool_size: 0, Host: 127.0.0.1 }").opts.cluster;
    assert.equal(c?.port, -1);
    assert.equal(c?.host, "127.0.0.1");
    assert.equal(c?.poolSize, 3);
    assert.equal(load("cluster { listen: 6333 }").opts.cluster?.port, 6333);
    assert.equal(load("port: 4222").opts.cluster, undefined);
  });

  it("normalises compression like nats-server", () => {
    const mode = (v: string) => load(`cluster { port: -1, compression: ${v} }`).opts.cluster?.compression;
    assert.equal(mode("true"), "s2_fast");
    assert.equal(mode("false"), "off");
    assert.equal(mode("on"), "s2_fast");
    assert.equal(mode("accept"), "accept");
    assert.equal(mode("auto"), "s2_auto");
    assert.equal(mode("S2_Best"), "s2_best");
    assert.equal(mode('"not supported"'), "not supported");
    refuses(
      "cluster { port: -1, compression: zstd }",
      /cluster\.compression: unsupported compression mode "zstd"/,
    );
    refuses("cluster { port: -1, compression: 5 }", /cluster\.compression: should be a boolean/);
  });

  it("takes the deprecated permissions of the authorization block unless the block has its own", () => {
    const a = load("cluster { port: -1, authorization { user: u, password: p, permissions { import: a } } }");
    assert.deepEqual(a.opts.cluster?.permissions, { import: { allow: ["a"] } });
    assert.match(a.warnings.join("\n"), /permissions" within cluster authorization block is deprecated/);
    const b = load(
      "cluster { port: -1, permissions { export: b }, authorization { user: u, password: p, permissions { import: a } } }",
    );
    assert.deepEqual(b.opts.cluster?.permissions, { export: { allow: ["b"] } });
  });

  it("warns about unknown keys and keys without effect, but not about variables", () => {
    const { warnings } = load(
      "cluster { port: -1, colour: blue, write_timeout: close, N: 5, connect_retries: $N }",
    );
    assert.deepEqual(warnings, [
      'unknown field "cluster.colour"',
      "cluster.write_timeout is accepted but has no effect in this release",
    ]);
    assert.match(load('cluster { port: -1, ping_interval: "1m" }').warnings.join(), /30s which is the max/);
    assert.match(
      load("cluster { port: -1, routes: [nats://a:1, nats://a:1] }").warnings.join(),
      /duplicate route entry "nats:\/\/a:1"/,
    );
  });

  it("refuses wrong types and bad values, naming the option", () => {
    refuses('cluster { port: "x" }', /^cluster\.port: expected an integer, got "x"$/);
    refuses("cluster { no_advertise: maybe }", /^cluster\.no_advertise: expected a boolean, got "maybe"$/);
    refuses('cluster { routes: "nats://a:1" }', /^cluster\.routes: expected an array/);
    refuses('cluster { listen: "127.0.0.1" }', /cluster\.listen: could not parse address string/);
    refuses('cluster { name: "a b" }', /cluster name cannot contain spaces/);
    refuses("cluster: 5", /^cluster: expected a map, got 5$/);
    refuses("cluster { port: 70000 }", /cluster\.port: 70000 is out of range/);
  });

  it("refuses route URLs that cannot be dialled, naming the URL", () => {
    refuses(
      'cluster { port: -1, routes: ["127.0.0.1:6222"] }',
      /cluster\.routes\[0\]: .*"127\.0\.0\.1:6222"/,
    );
    refuses('cluster { port: -1, routes: ["nats://a b:1"] }', /cluster\.routes\[0\]: .*"nats:\/\/a b:1"/);
    refuses(
      "cluster { port: -1, routes: [nats://ok:1, nats://noport] }",
      /routes\[1\]: .*"nats:\/\/noport" has no port/,
    );
  });

  it("refuses what nats-server refuses in a route authorization block", () => {
    refuses(
      "cluster { port: -1, authorization { token: t } }",
      /Cluster authorization does not support tokens/,
    );
    refuses(
      "cluster { port: -1, authorization { users: [ {user: a, password: b} ] } }",
      /Cluster authorization does not allow multiple users/,
    );
    refuses("cluster { port: -1, permissions { import: ['a b'] } }", /subject "a b" is not a valid subject/);
    refuses("cluster { port: -1, permissions { import: { allow: a, maybe: b } } }", /only "allow" or "deny"/);
    refuses(
      "cluster { port: -1, permissions { allow_responses: true } }",
      /do not support dynamic responses/,
    );
    refuses("cluster { port: -1, accounts: [A, A] }", /duplicate account name "A"/);
    refuses("cluster { port: -1, pool_size: -1, accounts: [A] }", /cannot be negative if pinned accounts/);
  });
});

describe("config: JetStream and clustering", () => {
  const JS_MESSAGE = /^jetstream: JetStream in a cluster \(routes\) is not supported by this release/;

  it("refuses JetStream on a server with a route listener or routes", () => {
    refuses("jetstream: enabled\ncluster { name: c1, listen: 127.0.0.1:-1 }", JS_MESSAGE);
    refuses("jetstream { store_dir: /tmp/x }\ncluster { routes: [nats://127.0.0.1:6222] }", JS_MESSAGE);
  });

  it("allows JetStream with a cluster block that does not cluster, and on leaf nodes", () => {
    assert.ok(load("jetstream: enabled\ncluster { name: c1 }").opts.jetstream?.enabled);
    const leaf = load("jetstream { domain: leaf }\nleafnodes { remotes: [ { url: nats://hub:7422 } ] }").opts;
    assert.equal(leaf.jetstream?.domain, "leaf");
    assert.equal(leaf.leafnodes?.remotes.length, 1);
    assert.equal(load("jetstream: disabled\ncluster { port: -1 }").opts.cluster?.port, -1);
  });
});

describe("config: gateway { }", () => {
  it("decodes every key", () => {
    const { opts, warnings } = load(`
      gateway {
        name: A
        listen: "127.0.0.1:7222"
        advertise: "10.0.0.1:7222"
        reject_unknown: true
        connect_retries: 3
        authorization { user: g, password: p, timeout: "2s" }
        gateways: [
          { name: B, url: "nats://b:7222" }
          { name: C, urls: [ "nats://c1:7222", "nats://c2:7222" ] }
        ]
      }`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(opts.gateway, {
      name: "A",
      host: "127.0.0.1",
      port: 7222,
      advertise: "10.0.0.1:7222",
      rejectUnknownCluster: true,
      connectRetries: 3,
      authorization: { user: "g", password: "p", timeoutMs: 2000 },
      gateways: [
        { name: "B", urls: ["nats://b:7222"] },
        { name: "C", urls: ["nats://c1:7222", "nats://c2:7222"] },
      ],
    });
    assert.equal(
      load("gateway { name: A, port: -1, reject_unknown_cluster: true }").opts.gateway?.host,
      "0.0.0.0",
    );
  });

  it("checks names and ports as nats-server does", () => {
    refuses("gateway { name: A }", /^gateway "A" has no port specified \(select -1 for random port\)$/);
    refuses("gateway { port: -1 }", /^gateway has no name$/);
    refuses(
      "gateway { name: A, port: -1, gateways: [ { url: nats://b:1 } ] }",
      /gateway in the list 0 has no name/,
    );
    refuses("gateway { name: A, port: -1, gateways: [ { name: B } ] }", /gateway "B" has no URL/);
    refuses(
      "gateway { name: A, port: -1, authorization { token: t } }",
      /Gateway authorization does not support tokens/,
    );
    refuses('gateway { name: "a b", port: -1 }', /gateway name cannot contain spaces/);
  });

  it("requires the cluster name to be the gateway name, and gives a nameless cluster the gateway's", () => {
    refuses(
      "cluster { name: c1, port: -1 }\ngateway { name: c2, port: -1 }",
      /cluster name conflicts between cluster and gateway definitions/,
    );
    assert.equal(load("cluster { port: -1 }\ngateway { name: g, port: -1 }").opts.cluster?.name, "g");
    assert.ok(load("cluster { name: g, port: -1 }\ngateway { name: g, port: -1 }").opts.gateway);
  });
});

describe("config: leafnodes { }", () => {
  it("decodes the listener side", () => {
    const { opts, warnings } = load(`
      accounts { A { users: [ {user: x, password: x} ] }, B { users: [ {user: y, password: y} ] } }
      leafnodes {
        listen: "127.0.0.1:-1"
        advertise: "10.0.0.1:7422"
        no_advertise: true
        authorization {
          timeout: 2
          account: A
          users: [ { user: l1, password: p1, account: B }, { user: l2, password: p2 } ]
        }
        compression: off
        min_version: "2.9.0"
      }`);
    assert.deepEqual(
      warnings.filter((w) => !/Plaintext/.test(w)),
      [],
    );
    assert.deepEqual(opts.leafnodes, {
      host: "127.0.0.1",
      port: -1,
      advertise: "10.0.0.1:7422",
      noAdvertise: true,
      authorization: {
        timeoutMs: 2000,
        account: "A",
        users: [
          { user: "l1", password: "p1", account: "B" },
          { user: "l2", password: "p2" },
        ],
      },
      compression: "off",
      minVersion: "2.9.0",
      remotes: [],
      reconnectMs: 1000,
    });
  });

  it("has no listener without listen/port, and takes `leaf` as an alias", () => {
    const l = load("leaf { remotes: [ { url: nats://hub } ] }").opts.leafnodes;
    assert.equal(l?.port, undefined);
    assert.equal(l?.host, "0.0.0.0");
    assert.equal(l?.reconnectMs, 1000);
    assert.equal(load("leafnodes { port: 7422 }").opts.leafnodes?.port, 7422);
    assert.equal(load("leafnodes { port: 0 }").opts.leafnodes?.port, undefined);
    refuses('leafnodes { listen: "127.0.0.1" }', /leafnodes\.listen: could not parse address string/);
  });

  it("decodes remotes", () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-leaf-"));
    writeFileSync(join(dir, "ca.pem"), "only read, never parsed, for a remote without a certificate\n");
    try {
      const { opts, warnings } = load(
        `
        accounts { A { users: [ {user: x, password: x} ] } }
        leafnodes {
          reconnect: "250ms"
          remotes: [
            {
              urls: [ "nats-leaf://h1:7422", "nats-leaf://h2" ]
              account: A
              credentials: "leaf.creds"
              deny_imports: [ "private.>" ]
              deny_exports: "secret.*"
              hub: true
              no_randomize: true
              first_info_timeout: "3s"
              compression: true
              disabled: false
            }
            { url: "wss://hub:443/leafnode", nkey: "${USER_SEED}", ws_compression: true, ws_no_masking: true, disabled: yes }
            { url: "tls://hub:7422", credentials: "~/x.creds", tls: { ca_file: "${join(dir, "ca.pem")}" }, compression: { mode: accept } }
          ]
        }`,
        dir,
      );
      assert.deepEqual(warnings, []);
      const [r1, r2, r3] = opts.leafnodes?.remotes ?? [];
      assert.equal(opts.leafnodes?.reconnectMs, 250);
      assert.deepEqual(r1, {
        urls: ["nats-leaf://h1:7422", "nats-leaf://h2"],
        account: "A",
        credentials: join(dir, "leaf.creds"),
        denyImports: ["private.>"],
        denyExports: ["secret.*"],
        hub: true,
        noRandomize: true,
        firstInfoTimeoutMs: 3000,
        compression: "s2_auto",
        wsCompression: false,
        disabled: false,
      });
      assert.deepEqual(r2, {
        urls: ["wss://hub:443/leafnode"],
        nkey: USER_SEED,
        denyImports: [],
        denyExports: [],
        wsCompression: true,
        wsNoMasking: true,
        hub: false,
        noRandomize: false,
        disabled: true,
      });
      assert.equal(r3.credentials, join(homedir(), "x.creds"));
      assert.equal(r3.tls?.caFile, join(dir, "ca.pem"));
      assert.equal(r3.tls?.certFile, undefined);
      assert.equal(r3.compression, "accept");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a bare reconnect number as seconds, with nats-server's warning", () => {
    const { opts, warnings } = load("leafnodes { reconnect: 5 }");
    assert.equal(opts.leafnodes?.reconnectMs, 5000);
    assert.deepEqual(warnings, [
      'invalid use of field "leafnodes.reconnect": leafnodes.reconnect should be converted to a duration',
    ]);
  });

  it("refuses remotes and users that cannot work", () => {
    refuses(
      'leafnodes { remotes: [ { account: "$G" } ] }',
      /^leafnodes\.remotes\[0\]: a remote needs "url" or "urls"$/,
    );
    refuses("leafnodes { remotes: [ { urls: [] } ] }", /a remote needs "url" or "urls"/);
    refuses(
      'leafnodes { remotes: [ { url: "not a url" } ] }',
      /remotes\[0\]\.url: error parsing leafnode url/,
    );
    refuses(
      "leafnodes { remotes: [ { urls: [ws://h:1, nats://h:2] } ] }",
      /mix of websocket and non-websocket urls/,
    );
    refuses(
      `leafnodes { remotes: [ { url: nats://h, credentials: x.creds, nkey: "${USER_SEED}" } ] }`,
      /can not have both creds and nkey/,
    );
    refuses('leafnodes { remotes: [ { url: nats://h, nkey: "SUAB" } ] }', /nkey is not a valid user seed/);
    refuses(
      "leafnodes { remotes: [ { url: nats://h }, { url: nats://h } ] }",
      /remotes\[1\]: duplicate remote/,
    );
    refuses("leafnodes { remotes: [ { url: nats://h, deny_imports: ['a b'] } ] }", /not a valid subject/);
    refuses(
      "leafnodes { remotes: [ { url: nats://h, account: NOPE } ] }",
      /cannot find local account "NOPE"/,
    );
    refuses("leafnodes { port: -1, authorization { account: NOPE } }", /cannot find local account "NOPE"/);
    refuses(
      "leafnodes { port: -1, authorization { users: [ {user: a, password: b}, {user: a, password: c} ] } }",
      /duplicate user "a" detected in leafnode authorization/,
    );
    refuses(
      "leafnodes { port: -1, authorization { user: x, password: y, users: [ {user: a, password: b} ] } }",
      /can not have a single user\/pass and a users array/,
    );
    refuses("leafnodes { port: -1, authorization { token: t } }", /does not support tokens/);
    refuses('leafnodes { port: -1, authorization { nkey: "UABC" } }', /not a valid public nkey/);
    refuses('leafnodes { port: -1, min_version: "2.7.0" }', /at least 2\.8\.0/);
    refuses('leafnodes { remotes: [ { url: nats://h, first_info_timeout: "x" } ] }', /first_info_timeout/);
    refuses(
      'leafnodes { remotes: [ { url: nats://h, tls: { ca_file: "/no/such/ca.pem" } } ] }',
      /no such file/,
    );
  });

  it("warns about unknown and ineffective keys", () => {
    const { warnings } = load(
      "leafnodes { port: -1, shiny: 1, isolate: true, remotes: [ { url: nats://h, sparkle: 2, proxy: {} } ] }",
    );
    assert.deepEqual(warnings, [
      'unknown field "leafnodes.shiny"',
      "leafnodes.isolate is accepted but has no effect in this release",
      'unknown field "leafnodes.remotes[0].sparkle"',
      "leafnodes.remotes[0].proxy is accepted but has no effect in this release",
    ]);
  });
});

describe("config: TLS in the cluster, gateway and leafnodes blocks", { skip: !hasOpenssl() }, () => {
  let certs: CertFiles;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.remove());

  it("reuses the tls block decoder, verifies route and gateway peers, and checks the files", () => {
    const tls = `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}" }`;
    const { opts } = load(
      `cluster { port: -1, ${tls} }\ngateway { name: g, port: -1, ${tls}, gateways: [ {name: h, url: nats://h:1, ${tls}} ] }\nleafnodes { port: -1, ${tls} }`,
    );
    assert.equal(opts.cluster?.tls?.certFile, certs.serverCert);
    assert.equal(opts.cluster?.tls?.verify, true);
    assert.equal(opts.gateway?.tls?.verify, true);
    assert.equal(opts.gateway?.gateways[0].tls?.verify, true);
    assert.equal(opts.leafnodes?.tls?.verify, false);
    refuses(`cluster { port: -1, tls { cert_file: "${certs.serverCert}" } }`, /missing 'key_file'/);
    refuses(
      `cluster { port: -1, tls { cert_file: "${certs.dir}/nope.pem", key_file: "${certs.serverKey}" } }`,
      /^cluster: .*nope\.pem/,
    );
  });
});

describe("cluster flags", () => {
  it("turn into a partial cluster block", () => {
    const f = parseServerFlags([
      "--cluster",
      "nats://ru:rp@127.0.0.1:-1",
      "--routes",
      "nats://a:6222, nats://b:6222",
      "--cluster_name",
      "c9",
      "--cluster_advertise",
      "10.0.0.9:6222",
      "--no_advertise",
      "--connect_retries",
      "7",
    ]);
    assert.deepEqual(f.unsupported, []);
    assert.deepEqual(f.overrides, {
      cluster: {
        listen: "127.0.0.1:-1",
        authorization: { user: "ru", password: "rp" },
        routes: ["nats://a:6222", "nats://b:6222"],
        name: "c9",
        advertise: "10.0.0.9:6222",
        no_advertise: true,
        connect_retries: 7,
      },
    });
    assert.deepEqual(parseServerFlags(["-cluster_listen=nats://[::1]:6222"]).overrides.cluster, {
      listen: "[::1]:6222",
      authorization: false,
    });
    assert.deepEqual(parseServerFlags(["--routes="]).overrides.cluster, { routes: [] });
    assert.deepEqual(parseServerFlags(["--no_advertise=false"]).overrides.cluster, { no_advertise: false });
    assert.throws(
      () => parseServerFlags(["--cluster", "nats://u@h:1"]),
      /expected cluster password to be set/,
    );
    assert.throws(() => parseServerFlags(["--cluster", "nats://h"]), FlagError);
    assert.throws(() => parseServerFlags(["--connect_retries", "x"]), FlagError);
  });

  it("override the config file, merging into its cluster block", () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-flags-"));
    try {
      const conf = join(dir, "c.conf");
      writeFileSync(
        conf,
        `cluster {
          name: c1, listen: "127.0.0.1:6222", routes: [nats://old:6222]
          authorization { user: a, password: b, timeout: 3 }
          pool_size: 5
        }\n`,
      );
      const warn = () => {};
      const merged = loadOptions(
        [
          "-c",
          conf,
          "--cluster",
          "nats://0.0.0.0:7000",
          "--routes",
          "nats://new:6222",
          "--connect_retries",
          "2",
        ],
        warn,
      ).opts.cluster;
      assert.deepEqual(merged, {
        name: "c1",
        host: "0.0.0.0",
        port: 7000,
        routes: ["nats://new:6222"],
        // A --cluster URL without credentials drops the file's user and password (as nats-server).
        authorization: { timeoutMs: 3000 },
        noAdvertise: false,
        connectRetries: 2,
        poolSize: 5,
        accounts: [],
      });
      const named = loadOptions(["-c", conf, "--cluster_name", "c2", "--no_advertise"], warn).opts.cluster;
      assert.equal(named?.name, "c2");
      assert.equal(named?.noAdvertise, true);
      assert.equal(named?.port, 6222);
      assert.deepEqual(named?.routes, ["nats://old:6222"]);
      assert.deepEqual(named?.authorization, { user: "a", password: "b", timeoutMs: 3000 });
      const creds = loadOptions(["-c", conf, "--cluster", "nats://x:y@127.0.0.1:-1"], warn).opts.cluster;
      assert.deepEqual(creds?.authorization, { user: "x", password: "y", timeoutMs: 3000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuse routes without a route listener, and JetStream with one", () => {
    assert.throws(
      () => loadOptions(["--routes", "nats://a:6222"], () => {}),
      /solicited routes require cluster capabilities, e.g. --cluster/,
    );
    const o = loadOptions(["--cluster", "nats://127.0.0.1:-1", "--routes", "nats://a:6222"], () => {}).opts;
    assert.deepEqual(o.cluster?.routes, ["nats://a:6222"]);
    assert.throws(
      () => loadOptions(["-js", "--cluster", "nats://127.0.0.1:-1"], () => {}),
      /JetStream in a cluster \(routes\) is not supported/,
    );
  });
});

// Debian's nats-server 2.9.10, when installed: config files both servers must accept, and both must refuse.
// (2.9.10 `-t` only parses, so cross-field checks such as gateway names are not compared here.)
function natsServerVersion(): string | undefined {
  try {
    return execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

describe("`-t` acceptance compared with nats-server", { skip: natsServerVersion() === undefined }, () => {
  const accepted = [
    'cluster { name: C_x, listen: "127.0.0.1:-1", routes [ nats://127.0.0.1:6222 ] }',
    `cluster {
      name: c1, port: 6222, no_advertise: true, connect_retries: 2, cluster_advertise: "1.2.3.4:6222"
      permissions { import: ["foo.>"], export: { allow: "bar", deny: "baz" } }
      authorization { user: r, password: p, timeout: 2.5 }
    }`,
    `gateway {
      name: A, listen: "127.0.0.1:7222", reject_unknown: true
      gateways: [ {name: B, url: "nats://b:7222"}, {name: C, urls: ["nats://c1:7222", "nats://c2:7222"]} ]
    }`,
    `accounts { A { users: [ {user: u, password: p} ] } }
    leafnodes {
      listen: "127.0.0.1:-1", no_advertise: true
      remotes: [ { urls: ["nats-leaf://h1:7422", "nats-leaf://h2"], account: A, deny_imports: ["x.>"], deny_exports: "y" } ]
    }`,
    'leaf { port: 7422, authorization { users: [ {user: a, password: b, account: "$G"} ] } }',
  ];
  const refused = [
    'cluster { listen: "127.0.0.1" }',
    'cluster { port: "x" }',
    'cluster { port: 6222, routes: [ "127.0.0.1:6222" ] }',
    'cluster { port: 6222, routes: "nats://a:1" }',
    'cluster { port: 6222, no_advertise: "maybe" }',
    "cluster { port: 6222, authorization { token: x } }",
    "cluster { port: 6222, authorization { users: [ {user: a, password: b} ] } }",
    'leafnodes { listen: "127.0.0.1" }',
    "leafnodes { port: 7422, authorization { users: [ {user: a, password: b}, {user: a, password: c} ] } }",
    "leafnodes { port: 7422, authorization { user: x, password: y, users: [ {user: a, password: b} ] } }",
  ];
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "lattice-vs-nats-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function natsAccepts(text: string): boolean {
    const file = join(dir, "c.conf");
    writeFileSync(file, `${text}\n`);
    return spawnSync("nats-server", ["-c", file, "-t"], { encoding: "utf8" }).status === 0;
  }

  function latticeAccepts(text: string): boolean {
    try {
      load(text);
      return true;
    } catch (err) {
      if (err instanceof OptionsError) return false;
      throw err;
    }
  }

  for (const text of accepted) {
    it(`both accept: ${text.split("\n")[0]}`, () => {
      assert.equal(natsAccepts(text), true, "nats-server");
      assert.equal(latticeAccepts(text), true, "lattice");
    });
  }
  for (const text of refused) {
    it(`both refuse: ${text}`, () => {
      assert.equal(natsAccepts(text), false, "nats-server");
      assert.equal(latticeAccepts(text), false, "lattice");
    });
  }
});

describe("decoders apply on top of earlier options", () => {
  it("clusterFrom, gatewayFrom and leafNodesFrom merge into what they are given", () => {
    const c = clusterFrom({ name: "a", port: 1 }, () => {});
    clusterFrom({ routes: ["nats://x:1"] }, () => {}, c);
    assert.equal(c.name, "a");
    assert.deepEqual(c.routes, ["nats://x:1"]);
    const g = gatewayFrom({ name: "g" }, () => {});
    assert.equal(gatewayFrom({ port: 2 }, () => {}, g).name, "g");
    const l = leafNodesFrom({ port: 3 }, () => {});
    assert.equal(leafNodesFrom({ reconnect: "2s" }, () => {}, undefined, l).port, 3);
  });
});
