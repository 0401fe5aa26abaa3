// Running the `lattice` command line end to end: spawn `node dist/src/cli/lattice.js ...` against an embedded
// Lattice or a reference nats-server, with a private config dir (contexts never touch the user's), and probe
// what each server's JetStream supports so tests skip only what is missing.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type EmbeddedOptions, startServer } from "../../src/index.js";
import { hasNatsServer, startNatsServer } from "../helpers/servers.js";
import { setWatchdogLabel, startWatchdog } from "../helpers/watchdog.js";

export const LATTICE_CLI = fileURLToPath(new URL("../../src/cli/lattice.js", import.meta.url));

/** A config dir for the whole test process, so saved contexts never leak into (or from) the user's. */
const CONFIG_HOME = mkdtempSync(join(tmpdir(), "lattice-cli-config-"));
/** Every command still running when the test process exits (a failed test) is killed, never orphaned. */
const running = new Map<ChildProcess, string>();
process.on("exit", () => {
  for (const c of running.keys()) c.kill("SIGKILL");
  rmSync(CONFIG_HOME, { recursive: true, force: true });
});

// If this process's event loop ever stalls, the watchdog says which commands were running.
startWatchdog();

function showRunning(): void {
  const now = Date.now();
  setWatchdogLabel(
    `lattice commands running: ${[...running.values()].map((d) => `[${d}]`).join(" ")} at ${now}`,
  );
}

function track(child: ChildProcess, args: string[]): ChildProcess {
  running.set(child, `pid ${child.pid}: ${args.join(" ")}`);
  showRunning();
  child.on("close", () => {
    running.delete(child);
    showRunning();
  });
  return child;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
}

function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME };
  for (const k of [
    "NATS_URL",
    "NATS_USER",
    "NATS_PASSWORD",
    "NATS_TOKEN",
    "NATS_NKEY",
    "NATS_CREDS",
    "NATS_TIMEOUT",
    "LATTICE_CONTEXT",
    "NO_COLOR",
    "LATTICE_DEBUG",
  ]) {
    delete env[k];
  }
  // A loaded test machine must not turn into failures: a generous default (tests of timeouts pass --timeout).
  env.NATS_TIMEOUT = "20s";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Run one command to completion (killed after `timeoutMs`, which fails the result with code null). */
export function lattice(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = track(
    spawn(process.execPath, [LATTICE_CLI, ...args], {
      env: cliEnv(opts.env),
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    }),
    args,
  );
  return collect(child, opts);
}

function collect(child: ChildProcess, opts: RunOptions): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin?.on("error", () => {});
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running command (sub, reply, watch ...): wait for its output, then for its exit or stop it. */
export interface Background {
  readonly stdout: () => string;
  readonly stderr: () => string;
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr", timeoutMs?: number): Promise<void>;
  done(timeoutMs?: number): Promise<RunResult>;
  stop(): Promise<RunResult>;
}

export function background(args: string[], opts: RunOptions = {}): Background {
  const child = spawn(process.execPath, [LATTICE_CLI, ...args], {
    env: cliEnv(opts.env),
    cwd: opts.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(child, args);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  child.stdin.on("error", () => {});
  child.stdin.end();
  let exited: RunResult | undefined;
  const exit = new Promise<RunResult>((resolve) => {
    child.on("close", (code) => {
      exited = { code, stdout: out, stderr: err };
      resolve(exited);
    });
  });
  const hardStop = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  void exit.then(() => clearTimeout(hardStop));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(pattern, stream = "stderr", timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stream === "stdout" ? out : err)) {
        if (exited !== undefined) throw new Error(`exited (${exited.code}) before ${pattern}: ${err}${out}`);
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${pattern}; stdout: ${out} stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async done(timeoutMs = 30_000) {
      const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const r = await exit;
      clearTimeout(t);
      return r;
    },
    async stop() {
      if (exited === undefined) child.kill("SIGINT");
      return exit;
    },
  };
}

// ---------------------------------------------------------------- servers under test

export interface Capabilities {
  jetstream: boolean;
  streams: boolean;
  consumers: boolean;
}

export interface Target {
  /** "lattice" or "nats-server" */
  name: string;
  url: string;
  monitorUrl?: string;
  caps: Capabilities;
  close(): Promise<void>;
}

/** What JetStream features answer on this server: probed, not assumed. */
export async function probe(url: string): Promise<Capabilities> {
  const caps: Capabilities = { jetstream: false, streams: false, consumers: false };
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 }).catch(() => undefined);
    if (jsm === undefined) return caps;
    caps.jetstream = true;
    const name = `PROBE_${Math.random().toString(36).slice(2, 8)}`;
    try {
      await jsm.streams.add({ name, subjects: [`probe.${name}`] });
      caps.streams = true;
    } catch {
      return caps;
    }
    try {
      await jsm.consumers.add(name, { durable_name: "probe", ack_policy: "explicit" as never });
      caps.consumers = true;
    } catch {
      caps.consumers = false;
    }
    await jsm.streams.delete(name).catch(() => {});
    return caps;
  } finally {
    await nc.close();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** An embedded Lattice with JetStream (and monitoring when asked). */
export async function latticeTarget(
  opts: { monitor?: boolean; config?: EmbeddedOptions; jetstream?: boolean } = {},
): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "lattice-cli-js-"));
  const config: EmbeddedOptions = { ...(opts.config ?? {}) };
  if (opts.jetstream !== false) config.jetstream = { store_dir: dir };
  if (opts.monitor) config.http = "127.0.0.1:-1";
  const s = await startServer(config);
  const monitoring = s.server.listenerUrls().monitoring?.[0];
  const caps =
    opts.jetstream === false || config.authorization !== undefined
      ? { jetstream: false, streams: false, consumers: false }
      : await probe(s.url);
  return {
    name: "lattice",
    url: s.url,
    monitorUrl: monitoring,
    caps,
    close: async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's nats-server 2.9.10 with JetStream (and monitoring when asked), or undefined when not installed. */
export async function natsServerTarget(opts: { monitor?: boolean } = {}): Promise<Target | undefined> {
  if (!hasNatsServer()) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "lattice-cli-ref-"));
  let conf = `jetstream { store_dir: "${dir}" }\n`;
  let monitorUrl: string | undefined;
  if (opts.monitor) {
    const port = await freePort();
    conf += `http: "127.0.0.1:${port}"\n`;
    monitorUrl = `http://127.0.0.1:${port}`;
  }
  const s = await startNatsServer(conf);
  return {
    name: "nats-server",
    url: s.url,
    monitorUrl,
    caps: await probe(s.url),
    close: async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Lattice always, nats-server when installed: the same tests run against each. */
export async function jetStreamTargets(opts: { monitor?: boolean } = {}): Promise<Target[]> {
  const targets: Target[] = [await latticeTarget(opts)];
  const ref = await natsServerTarget(opts);
  if (ref !== undefined) targets.push(ref);
  return targets;
}

/** A skip reason when the target lacks a feature (node:test's `skip` option), false otherwise. */
export function needs(t: Target, feature: keyof Capabilities, what: string): string | false {
  return t.caps[feature] ? false : `needs ${what} in ${t.name} (not implemented yet)`;
}

let unique = 0;
/** Unique names so tests sharing a server never collide. */
export function uniq(prefix: string): string {
  unique++;
  return `${prefix}${unique}_${process.pid}`;
}

/** An in-process client for test setup and checks, so the spawned CLI is used for what is under test. */
export async function admin(url: string): Promise<{
  nc: import("@nats-io/transport-node").NatsConnection;
  jsm: import("@nats-io/jetstream").JetStreamManager;
  js: import("@nats-io/jetstream").JetStreamClient;
  close(): Promise<void>;
}> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc, { timeout: 20_000 });
  return { nc, jsm, js: jsm.jetstream(), close: () => nc.close() };
}

/** Create a stream and publish `msgs` (subject, body) into it with the in-process client. */
export async function seedStream(
  url: string,
  name: string,
  subjects: string[],
  msgs: Array<[string, string, Record<string, string>?]> = [],
): Promise<void> {
  const a = await admin(url);
  try {
    await a.jsm.streams.add({ name, subjects });
    const { headers } = await import("@nats-io/transport-node");
    for (const [subject, body, hdrs] of msgs) {
      let h: ReturnType<typeof headers> | undefined;
      if (hdrs) {
        h = headers();
        for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
      }
      await a.js.publish(subject, body, { headers: h });
    }
  } finally {
    await a.close();
  }
}
