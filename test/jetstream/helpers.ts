// Shared setup for the JetStream stream tests: an embedded Lattice with a temporary store directory, the
// official v3 client, and raw request helpers for checking exact wire answers.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JetStreamApiError, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type Msg, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { startLattice } from "../helpers/servers.js";

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
