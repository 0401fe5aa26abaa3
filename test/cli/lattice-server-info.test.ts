// lattice server info|ping|check|report: against Lattice (with monitoring) and nats-server 2.9.10.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Exit } from "../../src/cli/errors.js";
import { background, jetStreamTargets, lattice, latticeTarget, needs, seedStream, uniq } from "./harness.js";

const targets = await jetStreamTargets({ monitor: true });
const plain = await latticeTarget({ jetstream: false });
after(() => Promise.all([...targets, plain].map((t) => t.close())));

describe("lattice server", { concurrency: true }, () => {
  for (const t of targets) {
    const s = ["-s", t.url];
    const mon = ["--monitor", t.monitorUrl ?? ""];
    const js = needs(t, "streams", "JetStream streams");

    describe(`lattice server against ${t.name}`, { concurrency: true }, () => {
      it("info: INFO, /varz statistics and JetStream usage; --json", async () => {
        const [r, jOut, guess, bad] = await Promise.all([
          lattice([...s, "server", "info", ...mon]),
          lattice([...s, "server", "info", ...mon, "--json"]),
          lattice([...s, "server", "info"]),
          lattice([...s, "server", "info", "--monitor", "http://127.0.0.1:1"]),
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Server information for /);
        assert.match(r.stdout, /Version: \d+\.\d+\.\d+/);
        assert.match(r.stdout, /JetStream: true/);
        assert.match(r.stdout, /Statistics \(http:\/\/127\.0\.0\.1:\d+\/varz\):/);
        assert.match(r.stdout, /Connections: \d+/);
        assert.match(r.stdout, /JetStream \(this account\):/);
        const j = JSON.parse(jOut.stdout) as {
          info: { server_id: string; jetstream: boolean };
          varz: { server_id: string };
          rtt_ms: number;
        };
        assert.equal(j.info.server_id, j.varz.server_id);
        assert.ok(j.rtt_ms >= 0);
        // Without --monitor the default (host:8222) is tried; when it is not there, INFO is still shown.
        assert.equal(guess.code, 0, guess.stderr);
        assert.equal(bad.code, Exit.CONNECT);
        assert.match(bad.stderr, /monitoring endpoint http:\/\/127\.0\.0\.1:1\/varz is not reachable/);
      });

      it("ping measures round trips", async () => {
        const r = await lattice([...s, "server", "ping", "--count", "3", "--interval", "10ms", "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout) as { rtt_ms: number[]; min_ms: number; max_ms: number };
        assert.equal(j.rtt_ms.length, 3);
        assert.ok(j.min_ms <= j.max_ms);
        const human = await lattice([...s, "server", "ping", "--count", "1"]);
        assert.match(human.stdout, /seq=1 rtt=[\d.]+(µs|ms)\n/);
        assert.match(human.stdout, /1 pings, rtt min\/avg\/max = /);
      });

      it("check connection: OK, WARNING and CRITICAL with the monitoring exit codes", async () => {
        const generous = [
          "--connect-warning",
          "20s",
          "--connect-critical",
          "30s",
          "--rtt-warning",
          "20s",
          "--rtt-critical",
          "30s",
          "--req-warning",
          "20s",
          "--req-critical",
          "30s",
        ];
        const ok = await lattice([...s, "server", "check", "connection", ...generous]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(
          ok.stdout,
          /^OK Connection OK:connected to .* \| connect_time=[\d.]+s;20;30 rtt=[\d.]+s;20;30 request_time=[\d.]+s;20;30\n$/,
        );
        const warn = await lattice([
          ...s,
          "server",
          "check",
          "connection",
          "--rtt-warning",
          "0s",
          "--format",
          "json",
        ]);
        assert.equal(warn.code, 1);
        const wj = JSON.parse(warn.stdout) as { status: string; warnings: string[] };
        assert.equal(wj.status, "WARNING");
        assert.match(wj.warnings[0], /^rtt /);
        // --json is --format json, as everywhere else.
        const json = await lattice([...s, "server", "check", "connection", "--json", "--rtt-warning", "0s"]);
        assert.equal(json.code, 1);
        assert.equal((JSON.parse(json.stdout) as { status: string }).status, "WARNING");
        const down = await lattice([
          "-s",
          "nats://127.0.0.1:1",
          "--timeout",
          "1s",
          "server",
          "check",
          "connection",
        ]);
        assert.equal(down.code, 2);
        assert.match(
          down.stdout,
          /^CRITICAL Connection Crit:cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused\n$/,
        );
      });

      it("check jetstream and check stream", { skip: js }, async () => {
        const name = uniq("CHECK");
        await seedStream(
          t.url,
          name,
          [`${name}.>`],
          [
            [`${name}.a`, "1"],
            [`${name}.a`, "2"],
            [`${name}.a`, "3"],
          ],
        );
        const check = (...args: string[]) => lattice([...s, "server", "check", ...args]);
        const [jsOk, ok, high, low, stale, missing, noName] = await Promise.all([
          check("jetstream"),
          check("stream", name, "--msgs-warning", "10", "--msgs-critical", "20"),
          check("stream", "--stream", name, "--msgs-warning", "2", "--msgs-critical", "5"),
          // critical below warning: alert on too few messages
          check("stream", name, "--msgs-warning", "10", "--msgs-critical", "5"),
          check("stream", name, "--last-msg-warning", "1ms", "--format", "text"),
          check("stream", uniq("NOPE")),
          check("stream"),
        ]);
        assert.equal(jsOk.code, 0, jsOk.stdout);
        assert.match(
          jsOk.stdout,
          /^OK JetStream OK:memory .* \| memory_bytes=\d+B;; storage_bytes=\d+B;; streams=\d+;; consumers=\d+;;\n$/,
        );
        assert.equal(ok.code, 0, ok.stdout);
        assert.match(ok.stdout, /^OK Stream .* OK:messages 3 \| messages=3;10;20 bytes=\d+B;;\n$/);
        assert.equal(high.code, 1, high.stdout);
        assert.match(high.stdout, /^WARNING .*Warn:messages 3 >= 2/);
        assert.equal(low.code, 2, low.stdout);
        assert.match(low.stdout, /^CRITICAL .*Crit:3 messages <= 5/);
        assert.equal(stale.code, 1, stale.stdout);
        assert.match(stale.stdout, /WARNING +last message .* ago >= 1/);
        assert.equal(missing.code, 2);
        assert.match(
          missing.stdout,
          /^CRITICAL Stream NOPE\d+_\d+ Crit:stream not found \(JetStream error 10059, status 404\)\n$/,
        );
        assert.equal(noName.code, Exit.USAGE);
      });

      it("report connections (from /connz) and report jetstream (from /jsz and the API)", {
        skip: js,
      }, async () => {
        const sub = background([...s, "sub", uniq("report"), "--wait", "20s"]);
        await sub.waitFor(/Subscribing/);
        try {
          const r = await lattice([...s, "server", "report", "connections", ...mon]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^Connections \(\d+ shown of \d+, from http:/);
          assert.match(r.stdout, /│ \d+ +│ lattice sub +│/);
          assert.match(r.stdout, /│ +│ Totals +│/);
          const j = JSON.parse(
            (await lattice([...s, "server", "report", "conns", ...mon, "--json", "--sort", "subs"])).stdout,
          ) as {
            connections: Array<{ name?: string }>;
          };
          assert.ok(j.connections.some((c) => c.name === "lattice sub"));
        } finally {
          await sub.stop();
        }
        const name = uniq("REPORT");
        await seedStream(t.url, name, [`${name}.>`], [[`${name}.a`, "1"]]);
        const js = await lattice([...s, "server", "report", "jetstream", ...mon]);
        assert.equal(js.code, 0, js.stderr);
        assert.match(js.stdout, /JetStream Summary \(http:.*\/jsz\)/);
        assert.match(
          js.stdout,
          /│ Server +│ Streams │ Consumers │ Messages │ Bytes +│ Memory │ File +│ API Req │ API Err │/,
        );
        assert.match(js.stdout, new RegExp(`│ ${name} +│ File +│ +1 │ +0 │ +1 │`));
        const fallback = await lattice([...s, "server", "report", "jetstream"]);
        assert.equal(fallback.code, 0, fallback.stderr);
        assert.match(fallback.stdout, /JetStream Summary \((account|http:.*)\)/);
      });
    });
  }

  it("check jetstream is CRITICAL where JetStream is off", async () => {
    const r = await lattice(["-s", plain.url, "server", "check", "jetstream"]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stdout, /^CRITICAL JetStream Crit:JetStream is not available: /);
  });
});
