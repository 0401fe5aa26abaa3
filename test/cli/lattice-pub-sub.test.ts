// lattice pub / sub / request / reply and the connection options (auth flags, NATS_URL, contexts), end to end
// against an embedded Lattice.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createUser } from "@nats-io/nkeys";
import { Exit } from "../../src/cli/errors.js";
import { startServer } from "../../src/index.js";
import { Operator, user } from "../auth/jwt-fixtures.js";
import { hasOpenssl, makeCerts } from "../tls/certs.js";
import { background, lattice, latticeTarget, type Target, uniq } from "./harness.js";

describe("lattice pub/sub/request/reply", { concurrency: true }, () => {
  let t: Target;
  let s: string[];
  before(async () => {
    t = await latticeTarget();
    s = ["-s", t.url];
  });
  after(() => t.close());

  it("sub on a wildcard receives templated messages from pub --count, then exits after --count", async () => {
    const base = uniq("orders");
    const sub = background([...s, "sub", `${base}.>`, "--count", "3"]);
    await sub.waitFor(/Subscribing on/);
    const pub = await lattice([
      ...s,
      "pub",
      `${base}.new`,
      "order {{Count}}",
      "--count",
      "3",
      "--sleep",
      "10ms",
      "-H",
      "trace:t{{Count}}",
    ]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /Published 3 messages \(21 B\) to/);
    const r = await sub.done();
    assert.equal(r.code, 0, r.stderr);
    for (const n of [1, 2, 3]) {
      assert.match(r.stdout, new RegExp(`\\[#${n}\\]`));
      assert.ok(r.stdout.includes(`order ${n}`), r.stdout);
      assert.ok(r.stdout.includes(`trace: t${n}`), r.stdout);
    }
    assert.ok(r.stdout.includes(`Subject: ${base}.new`));
  });

  it("sub --raw prints exactly the bodies; --headers only the headers; --json one object per message", async () => {
    const subj = uniq("raw");
    const raw = background([...s, "sub", subj, "--raw", "--count", "2"]);
    const hdr = background([...s, "sub", subj, "--headers", "--count", "1"]);
    const json = background([...s, "sub", subj, "--json", "--count", "1"]);
    await Promise.all([raw.waitFor(/Subscribing/), hdr.waitFor(/Subscribing/), json.waitFor(/Subscribing/)]);
    assert.equal((await lattice([...s, "pub", subj, "hello world", "-H", "k:v"])).code, 0);
    assert.equal((await lattice([...s, "pub", subj, "second"])).code, 0);
    assert.equal((await raw.done()).stdout, "hello world\nsecond\n");
    const h = await hdr.done();
    assert.match(h.stdout, /k: v/);
    assert.doesNotMatch(h.stdout, /hello world/);
    const j = JSON.parse((await json.done()).stdout.trim()) as Record<string, unknown>;
    assert.equal(j.subject, subj);
    assert.equal(j.data, "hello world");
    assert.deepEqual(j.headers, { k: ["v"] });
  });

  it("sub --queue shares messages among the group; --wait ends a subscription", async () => {
    const subj = uniq("work");
    const a = background([...s, "sub", subj, "--queue", "workers", "--raw"]);
    const b = background([...s, "sub", subj, "--queue", "workers", "--raw"]);
    const waiting = background([...s, "sub", uniq("quiet"), "--wait", "300ms"]);
    await Promise.all([a.waitFor(/queue group "workers"/), b.waitFor(/queue group "workers"/)]);
    assert.equal((await lattice([...s, "pub", subj, "m{{Count}}", "--count", "20"])).code, 0);
    const received = () => [...a.stdout().split("\n"), ...b.stdout().split("\n")].filter((l) => l !== "");
    const deadline = Date.now() + 10_000;
    while (received().length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [ra, rb] = await Promise.all([a.stop(), b.stop()]);
    assert.equal(ra.code, 0, "Ctrl-C ends a subscription cleanly");
    assert.equal(rb.code, 0);
    const lines = received();
    assert.equal(lines.length, 20, "every message delivered exactly once across the group");
    assert.equal(new Set(lines).size, 20);
    const w = await waiting.done();
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, "");
  });

  it("pub --force-stdin and pub - read the body from stdin", async () => {
    const subj = uniq("stdin");
    const sub = background([...s, "sub", subj, "--raw", "--count", "2"]);
    await sub.waitFor(/Subscribing/);
    assert.equal((await lattice([...s, "pub", subj, "--force-stdin"], { input: "from stdin" })).code, 0);
    assert.equal((await lattice([...s, "pub", subj, "-"], { input: "dash" })).code, 0);
    assert.equal((await sub.done()).stdout, "from stdin\ndash\n");
  });

  it("reply answers requests with a templated body and exits after --count; request and req print the reply", async () => {
    const subj = uniq("svc");
    const rep = background([
      ...s,
      "reply",
      subj,
      "pong {{Count}}: {{Request}}",
      "--count",
      "2",
      "-H",
      "server:x",
    ]);
    await rep.waitFor(/Listening on/);
    const r1 = await lattice([...s, "request", subj, "ping"]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /Received with rtt/);
    assert.match(r1.stdout, /server: x/);
    assert.match(r1.stdout, /pong 1: ping/);
    const r2 = await lattice([...s, "req", subj, "again", "--raw"]);
    assert.equal(r2.stdout, "pong 2: again\n");
    const done = await rep.done();
    assert.equal(done.code, 0);
    assert.match(done.stdout, /ping/);
  });

  it("reply --echo mirrors body and headers; request --replies 0 collects every responder", async () => {
    const subj = uniq("echo");
    const e1 = background([...s, "reply", subj, "--echo", "--count", "1", "-q"]);
    const e2 = background([...s, "reply", subj, "--echo", "--count", "1", "-q"]);
    await Promise.all([e1.waitFor(/Listening/), e2.waitFor(/Listening/)]);
    const r = await lattice([
      ...s,
      "--timeout",
      "1s",
      "request",
      subj,
      "hi",
      "-H",
      "a:1",
      "--replies",
      "0",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const replies = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { data: string; headers?: Record<string, string[]>; rtt_ms: number });
    assert.equal(replies.length, 2);
    for (const rep of replies) {
      assert.equal(rep.data, "hi");
      assert.deepEqual(rep.headers, { a: ["1"] });
      assert.ok(rep.rtt_ms >= 0);
    }
    await Promise.all([e1.done(), e2.done()]);
  });

  it("a request nobody answers: exit 4 and one line", async () => {
    const r = await lattice([...s, "request", uniq("nobody"), "x"]);
    assert.equal(r.code, Exit.TIMEOUT);
    assert.match(
      r.stderr,
      /^Sending request on "nobody\d+_\d+"\nlattice: error: no responders available for request on "nobody\d+_\d+"\n$/,
    );
  });

  it("pub -J publishes to a stream and reports the stored sequence", async () => {
    const name = uniq("PUBJ");
    assert.equal((await lattice([...s, "stream", "add", name, "--subjects", `${name}.>`])).code, 0);
    const r = await lattice([...s, "pub", "-J", `${name}.a`, "x", "--count", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { acks: Array<{ stream: string; seq: number }> };
    assert.deepEqual(
      out.acks.map((a) => [a.stream, a.seq]),
      [
        [name, 1],
        [name, 2],
      ],
    );
    const none = await lattice([...s, "pub", "-J", uniq("nostream"), "x"]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /^lattice: error: .+\n$/);
  });
});

describe("lattice connection options", { concurrency: true }, () => {
  it("--user/--password, NATS_URL, and a permissions violation reported in one line", async () => {
    const srv = await startServer({
      authorization: {
        users: [
          {
            user: "a",
            password: "p",
            permissions: { publish: { deny: ["secret.>"] }, subscribe: { deny: ["secret.>"] } },
          },
        ],
      },
    });
    try {
      const noAuth = await lattice(["-s", srv.url, "pub", "x", "y"]);
      assert.equal(noAuth.code, Exit.CONNECT);
      assert.match(noAuth.stderr, /^lattice: error: cannot connect to .+: authorization failed/);
      const ok = await lattice(["-s", srv.url, "--user", "a", "--password", "p", "pub", "x", "y"]);
      assert.equal(ok.code, 0, ok.stderr);
      const inUrl = await lattice(["-s", srv.url.replace("nats://", "nats://a:p@"), "pub", "x", "y"]);
      assert.equal(inUrl.code, 0, inUrl.stderr);
      const env = await lattice(["pub", "x", "y"], {
        env: { NATS_URL: srv.url, NATS_USER: "a", NATS_PASSWORD: "p" },
      });
      assert.equal(env.code, 0, env.stderr);
      const denied = await lattice([
        "-s",
        srv.url,
        "--user",
        "a",
        "--password",
        "p",
        "pub",
        "secret.plans",
        "y",
      ]);
      assert.equal(denied.code, Exit.FAILED);
      assert.equal(
        denied.stderr,
        'lattice: error: permissions violation: not allowed to publish to "secret.plans"\n',
      );
      const subDenied = await lattice([
        "-s",
        srv.url,
        "--user",
        "a",
        "--password",
        "p",
        "sub",
        "secret.plans",
      ]);
      assert.equal(subDenied.code, Exit.FAILED);
      assert.match(subDenied.stderr, /permissions violation: not allowed to subscribe to "secret\.plans"\n$/);
    } finally {
      await srv.close();
    }
  });

  it("--token, --nkey and --creds authenticate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-cli-auth-"));
    const tok = await startServer({ authorization: { token: "s3cret" } });
    const nk = createUser();
    const nkeySrv = await startServer({ authorization: { users: [{ nkey: nk.getPublicKey() }] } });
    const op = await Operator.create();
    const acct = await op.account("A");
    const u = await user(acct.kp);
    const jwtSrv = await startServer(op.config());
    try {
      assert.equal((await lattice(["-s", tok.url, "pub", "x", "y"])).code, Exit.CONNECT);
      const t = await lattice(["-s", tok.url, "--token", "s3cret", "pub", "x", "y"]);
      assert.equal(t.code, 0, t.stderr);
      const seedFile = join(dir, "user.nk");
      writeFileSync(seedFile, `${new TextDecoder().decode(nk.getSeed())}\n`);
      const n = await lattice(["-s", nkeySrv.url, "--nkey", seedFile, "pub", "x", "y"]);
      assert.equal(n.code, 0, n.stderr);
      const credsFile = join(dir, "user.creds");
      writeFileSync(credsFile, u.creds);
      const c = await lattice(["-s", jwtSrv.url, "--creds", credsFile, "pub", "x", "y"]);
      assert.equal(c.code, 0, c.stderr);
      const missing = await lattice(["-s", jwtSrv.url, "--creds", join(dir, "nope.creds"), "pub", "x", "y"]);
      assert.equal(missing.code, Exit.USAGE);
      assert.match(missing.stderr, /cannot read credentials file/);
    } finally {
      await Promise.all([tok.close(), nkeySrv.close(), jwtSrv.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--tlsca/--tlscert/--tlskey verify and authenticate over TLS; --tlsfirst for handshake_first servers", {
    skip: hasOpenssl() ? false : "needs the openssl command to make test certificates",
  }, async () => {
    const certs = makeCerts();
    const tls = { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca, verify: true };
    const srv = await startServer({ tls });
    const first = await startServer({ tls: { ...tls, verify: false, handshake_first: true } });
    try {
      const client = ["--tlsca", certs.ca, "--tlscert", certs.aliceCert, "--tlskey", certs.aliceKey];
      const [ok, noCa, noCert, firstOk] = await Promise.all([
        lattice(["-s", srv.url, ...client, "pub", "x", "y"]),
        lattice([
          "-s",
          srv.url,
          "--timeout",
          "2s",
          "--tlscert",
          certs.aliceCert,
          "--tlskey",
          certs.aliceKey,
          "pub",
          "x",
          "y",
        ]),
        lattice(["-s", srv.url, "--timeout", "2s", "--tlsca", certs.ca, "pub", "x", "y"]),
        lattice(["-s", first.url, "--tlsca", certs.ca, "--tlsfirst", "pub", "x", "y"]),
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(noCa.code, Exit.CONNECT, noCa.stderr);
      assert.match(noCa.stderr, /^lattice: error: cannot connect to /);
      assert.equal(noCert.code, Exit.CONNECT, noCert.stderr);
      assert.equal(firstOk.code, 0, firstOk.stderr);
    } finally {
      await Promise.all([srv.close(), first.close()]);
      certs.remove();
    }
  });

  it("contexts: add, ls, select, info (secrets masked), use with --context, rm", async () => {
    const srv = await startServer({ authorization: { users: [{ user: "ctx", password: "pw" }] } });
    const config = mkdtempSync(join(tmpdir(), "lattice-cli-ctx-"));
    const env = { XDG_CONFIG_HOME: config };
    try {
      const add = await lattice(
        [
          "context",
          "add",
          "local",
          "-s",
          srv.url,
          "--user",
          "ctx",
          "--password",
          "pw",
          "--description",
          "test box",
        ],
        { env },
      );
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /Saved context "local" in .*lattice\/contexts\/local\.json/);
      assert.equal((await lattice(["context", "add", "other", "-s", "nats://127.0.0.1:1"], { env })).code, 0);

      // Not selected yet: the default URL is used, and it is not there.
      const before = await lattice(["--context", "local", "pub", "x", "y"], { env });
      assert.equal(before.code, 0, before.stderr);
      assert.equal((await lattice(["context", "select", "local"], { env })).code, 0);
      const viaSelected = await lattice(["pub", "x", "y"], { env });
      assert.equal(viaSelected.code, 0, viaSelected.stderr);
      // A flag beats the context.
      const flagWins = await lattice(["-s", "nats://127.0.0.1:1", "--timeout", "1s", "pub", "x", "y"], {
        env,
      });
      assert.equal(flagWins.code, Exit.CONNECT);

      const ls = await lattice(["context", "ls"], { env });
      assert.match(ls.stdout, /local\*/);
      assert.match(ls.stdout, /test box/);
      const lsJson = JSON.parse((await lattice(["context", "ls", "--json"], { env })).stdout) as Array<{
        name: string;
        selected: boolean;
        password?: string;
      }>;
      assert.deepEqual(
        lsJson.map((c) => [c.name, c.selected]),
        [
          ["local", true],
          ["other", false],
        ],
      );
      assert.equal(lsJson[0].password, "********");
      const info = await lattice(["context", "info"], { env });
      assert.match(info.stdout, /Context "local" \(selected\)/);
      assert.doesNotMatch(info.stdout, /pw\b/);

      assert.equal((await lattice(["context", "rm", "local", "-f"], { env })).code, 0);
      const gone = await lattice(["--context", "local", "pub", "x", "y"], { env });
      assert.equal(gone.code, Exit.FAILED);
      assert.match(gone.stderr, /unknown context "local"/);
      assert.equal((await lattice(["context", "select", "nope"], { env })).code, Exit.FAILED);
      assert.equal((await lattice(["context", "add", "bad name"], { env })).code, Exit.USAGE);
    } finally {
      await srv.close();
      rmSync(config, { recursive: true, force: true });
    }
  });
});
