// What lattice-server logs: who it is and what it read (banner, configuration file, warnings with their
// place, before "Server is ready"), microsecond timestamps, and a -DV protocol trace in nats-server's shape,
// compared line by line with nats-server 2.9.10 when it is installed.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { LATTICE_VERSION, NATS_FEATURE_LEVEL } from "../../src/version.js";
import { hasNatsServer } from "../helpers/servers.js";

const BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "lattice-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LoggingServer {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Start a server (`lattice-server` or `nats-server`) with `conf`, collecting what it logs. */
async function startLogging(cmd: string[], conf: string, name: string): Promise<LoggingServer> {
  const portsDir = mkdtempSync(join(dir, `${name}-`));
  const file = join(portsDir, "server.conf");
  writeFileSync(file, `listen: "127.0.0.1:-1"\nports_file_dir: "${portsDir}"\n${conf}`);
  const child: ChildProcess = spawn(cmd[0], [...cmd.slice(1), "-c", file, "-DV"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    log += d;
  });
  const deadline = Date.now() + 15_000;
  let ports: string | undefined;
  while (ports === undefined) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start: ${log}`);
    ports = readdirSync(portsDir).find((f) => f.endsWith(".ports"));
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = (JSON.parse(readFileSync(join(portsDir, ports), "utf8")) as { nats: string[] }).nats[0];
  return {
    port: Number(new URL(url).port),
    log: () => log,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A raw client session that ends with a PING, so everything before it has been answered at its PONG. */
const SESSION =
  'CONNECT {"verbose":true,"headers":true,"protocol":1}\r\nSUB t.> 1\r\nPUB t.a 5\r\nhello\r\n' +
  "HPUB t.b r 12 17\r\nNATS/1.0\r\n\r\nhello\r\nPUB t.c 3\r\n\x01\t\x7f\r\nSUB bad..subject 2\r\nPING\r\n";

async function runSession(port: number): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  socket.setEncoding("latin1").on("data", (d: string) => {
    received += d;
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(Buffer.from(SESSION, "latin1"));
  const deadline = Date.now() + 5000;
  while (!received.includes("PONG\r\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
}

/** The protocol trace lines (`<<-` and `->>`), without pid, time and connection prefix, up to the PONG. */
function traceLines(log: string): string[] {
  const lines = log
    .split("\n")
    .filter((l) => l.includes("[TRC]") && /(<<-|->>) /.test(l))
    .map((l) => l.replace(/^.* - cid:\d+ - /, ""));
  return lines.slice(0, lines.indexOf("->> [PONG]") + 1);
}

describe("lattice-server's log", () => {
  it("names its version, the configuration file and each warning's place, before Server is ready", async () => {
    const srv = await startLogging(
      ["node", BIN],
      "no_such_option: 1\nwebsocket {\n  port: -1\n  no_tls: true\n  bogus: 2\n}\n",
      "banner",
    );
    try {
      await new Promise((r) => setTimeout(r, 50));
      const log = srv.log();
      assert.match(
        log,
        new RegExp(`\\[INF\\]   Version:  ${NATS_FEATURE_LEVEL} \\(nats-server feature level\\)`),
      );
      assert.match(log, new RegExp(`\\[INF\\]   Lattice:  ${LATTICE_VERSION.replaceAll(".", "\\.")}\n`));
      assert.match(log, /\[INF\] Using configuration file: .*server\.conf\n/);
      const ready = log.indexOf("Server is ready");
      const unknown = log.search(/\[WRN\] .*server\.conf:3:1: unknown field "no_such_option"/);
      const nested = log.search(/\[WRN\] .*server\.conf:7:3: unknown field "websocket\.bogus"/);
      assert.ok(unknown > 0 && nested > 0, log);
      assert.ok(unknown < ready && nested < ready, log);
    } finally {
      await srv.stop();
    }
  });

  it("stamps lines with microseconds, not milliseconds padded with zeros", async () => {
    const srv = await startLogging(["node", BIN], "", "time");
    try {
      await runSession(srv.port);
      const stamps = [...srv.log().matchAll(/^\[\d+\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.(\d{6}) \[/gm)];
      assert.ok(stamps.length > 10);
      assert.ok(
        stamps.some(([, micros]) => !micros.endsWith("000")),
        stamps.map((s) => s[1]).join(" "),
      );
    } finally {
      await srv.stop();
    }
  });

  it("-DV traces what it sends (->>) and the payloads it receives as nats-server does", async () => {
    const srv = await startLogging(["node", BIN], "", "trace");
    let lattice: string[];
    try {
      await runSession(srv.port);
      lattice = traceLines(srv.log());
    } finally {
      await srv.stop();
    }
    assert.deepEqual(lattice, [
      '<<- [CONNECT {"verbose":true,"headers":true,"protocol":1}]',
      "->> [OK]",
      "<<- [SUB t.> 1]",
      "->> [OK]",
      "<<- [PUB t.a 5]",
      '<<- MSG_PAYLOAD: ["hello"]',
      "->> [OK]",
      "->> [MSG t.a 1 5]",
      "<<- [HPUB t.b r 12 17]",
      '<<- MSG_PAYLOAD: ["NATS/1.0\\r\\n\\r\\nhello"]',
      "->> [OK]",
      "->> [HMSG t.b 1 r 12 17]",
      "<<- [PUB t.c 3]",
      '<<- MSG_PAYLOAD: ["\\x01\\t\\x7f"]',
      "->> [OK]",
      "->> [MSG t.c 1 3]",
      "<<- [SUB bad..subject 2]",
      "->> [-ERR Invalid Subject]",
      "<<- [PING]",
      "->> [PONG]",
    ]);
    if (!hasNatsServer()) return;
    const ref = await startLogging(["nats-server"], "", "reference");
    try {
      await runSession(ref.port);
      assert.deepEqual(lattice, traceLines(ref.log()));
    } finally {
      await ref.stop();
    }
  });
});
