// Shared setup for the JetStream stream tests: an embedded Lattice with a temporary store directory, the
// official v3 client, and raw request helpers for checking exact wire answers.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type JetStreamApiError, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type Msg, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { startLattice } from "../helpers/servers.js";

const SERVER_BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));

export function tempDir(prefix = "lattice-js-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface JsEnv {
  srv: RunningServer;
  nc: NatsConnection;
  jsm: JetStreamManager;
  dir: string;
  close(): Promise<void>;
}

/** Lattice with JetStream on a fresh store dir (or `dir`), a connection and a manager. */
export async function startJs(
  opts: { dir?: string; jetstream?: Record<string, unknown>; extra?: Record<string, unknown> } = {},
): Promise<JsEnv> {
  const dir = opts.dir ?? tempDir();
  const srv = await startLattice({
    jetstream: { store_dir: dir, ...(opts.jetstream ?? {}) },
    ...(opts.extra ?? {}),
  });
  const nc = await connect({ servers: srv.url });
  const jsm = await jetstreamManager(nc);
  return {
    srv,
    nc,
    jsm,
    dir,
    async close() {
      await nc.close();
      await srv.close();
    },
  };
}

/** A raw API reply, checked field by field in the tests. */
// biome-ignore lint/suspicious/noExplicitAny: replies are arbitrary JSON, asserted on piecemeal
export type Reply = Record<string, any>;

const te = new TextEncoder();
const td = new TextDecoder();

/** A raw JSON API request; returns the parsed answer. */
export async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<Reply> {
  const data =
    body === undefined
      ? new Uint8Array(0)
      : te.encode(typeof body === "string" ? body : JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout: 3000 });
  return JSON.parse(td.decode(m.data));
}

/** Publish with a reply and headers; returns the parsed PubAck (or error reply). */
export async function pub(
  nc: NatsConnection,
  subject: string,
  data = "",
  hdrs: Record<string, string> = {},
): Promise<Reply> {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  const m = await nc.request(subject, te.encode(data), {
    timeout: 3000,
    headers: Object.keys(hdrs).length ? h : undefined,
  });
  return JSON.parse(td.decode(m.data));
}

/** A raw request returning the message itself (direct get). */
export function rawRequest(nc: NatsConnection, subject: string, body = ""): Promise<Msg> {
  return nc.request(subject, te.encode(body), { timeout: 3000 });
}

export function text(m: { data: Uint8Array }): string {
  return td.decode(m.data);
}

/** The err_code of a rejected client call. */
export function errCode(err: unknown): number {
  return (err as JetStreamApiError).code;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `fn` returns true or time runs out. */
export async function until(fn: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

/** A Lattice server process with JetStream on `dir` (for kill -9 tests); resolves once its ports file is up. */
export function startServerProcess(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [SERVER_BIN, "-js", "-sd", dir, "-p", "-1", "-a", "127.0.0.1", "--ports_file_dir", dir],
    { stdio: "ignore" },
  );
  const portsFile = join(dir, `nats-server_${child.pid}.ports`);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const poll = () => {
      try {
        const ports = JSON.parse(readFileSync(portsFile, "utf8")) as { nats: string[] };
        resolve({ child, url: ports.nats[0] as string });
      } catch {
        if (Date.now() > deadline) reject(new Error("server did not start"));
        else setTimeout(poll, 25);
      }
    };
    poll();
  });
}
