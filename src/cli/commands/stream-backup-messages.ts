// Message backups of a stream, for servers without the snapshot API (Lattice) or by choice (--format messages):
// the stream is read with an ordered consumer into messages.jsonl, and restored by creating the stream with the
// saved configuration and publishing every message again, in order, through JetStream.
//
// What a message backup keeps: the configuration, every message's subject, headers and body, in order, and the
// durable consumers' configurations. What it does not: sequence numbers after gaps (the first sequence is kept
// where the server honours first_seq, the rest are renumbered without gaps), stored timestamps (messages get
// the time of the restore, so max_age counts from then), and consumers' delivery and acknowledgement state
// (restored consumers start over). Messages whose Nats-Msg-Id repeats within the duplicate window are dropped
// by the server on restore; they are counted and reported.

import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { finished } from "node:stream/promises";
import {
  type ConsumerConfig,
  JetStreamApiError,
  type JsMsg,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { type MsgHdrs, headers as makeHeaders } from "@nats-io/transport-node";
import { subjectMatches } from "../../subjects/pattern.js";
import type { Session } from "../connect-options.js";
import { CliError, describeError, Exit, STREAM_NOT_FOUND } from "../errors.js";
import { headersToRecord } from "../messages.js";
import { progressBar, progressWanted } from "../progress.js";

export const MESSAGES_FORMAT = "lattice-messages/1";
export const MESSAGES_FILE = "messages.jsonl";

export interface MessageBackupMeta {
  format: typeof MESSAGES_FORMAT;
  config: StreamConfig;
  state: StreamInfo["state"];
  consumers: ConsumerConfig[];
}

/** One line of messages.jsonl. */
interface SavedMsg {
  seq: number;
  subject: string;
  time: string;
  headers?: Record<string, string[]>;
  /** base64 */
  data: string;
}

/** Headers that instruct the server about a publish (already satisfied when the message was stored). */
const PUBLISH_EXPECTATION = /^Nats-Expected-/i;

function headersFrom(r: Record<string, string[]> | undefined): MsgHdrs | undefined {
  if (r === undefined) return undefined;
  const h = makeHeaders();
  let any = false;
  for (const [k, vs] of Object.entries(r)) {
    if (PUBLISH_EXPECTATION.test(k)) continue;
    for (const v of vs) {
      h.append(k, v);
      any = true;
    }
  }
  return any ? h : undefined;
}

/** Read every message (up to the last sequence when the backup started) into `dir`/messages.jsonl. */
export async function backupMessages(
  s: Session,
  stream: string,
  dir: string,
  opts: { consumers: boolean; progress: boolean },
): Promise<{ meta: MessageBackupMeta; messages: number; bytes: number }> {
  const jsm = await s.jsm();
  const si = await jsm.streams.info(stream);
  const consumers: ConsumerConfig[] = [];
  if (opts.consumers) {
    for await (const ci of jsm.consumers.list(stream)) {
      // Ephemeral consumers belong to a running client: they are not worth restoring.
      if (ci.config.durable_name) consumers.push(ci.config);
    }
  }
  const meta: MessageBackupMeta = { format: MESSAGES_FORMAT, config: si.config, state: si.state, consumers };
  mkdirSync(dir, { recursive: true });
  const file = createWriteStream(join(dir, MESSAGES_FILE));
  const bar = progressBar(si.state.messages, "items", `backup ${stream}`, progressWanted(!opts.progress));
  let messages = 0;
  let bytes = 0;
  try {
    if (si.state.messages > 0) {
      const js = await s.js();
      const consumer = await js.consumers.get(stream);
      const iter = await consumer.consume({ max_messages: 256 });
      const stallMs = Math.max(s.conn.timeoutMs, 10_000);
      let last = Date.now();
      let stalled = false;
      const idle = setInterval(() => {
        if (Date.now() - last > stallMs) {
          stalled = true;
          iter.stop();
        }
      }, 250);
      try {
        for await (const m of iter as AsyncIterable<JsMsg>) {
          last = Date.now();
          if (m.seq > si.state.last_seq) break;
          const saved: SavedMsg = {
            seq: m.seq,
            subject: m.subject,
            time: m.time.toISOString(),
            headers: headersToRecord(m.headers),
            data: Buffer.from(m.data).toString("base64"),
          };
          if (!file.write(`${JSON.stringify(saved)}\n`)) {
            await new Promise<void>((r) => file.once("drain", () => r()));
          }
          messages++;
          bytes += m.data.length;
          bar.update(messages);
          if (m.seq >= si.state.last_seq || m.info.pending === 0) break;
        }
      } finally {
        clearInterval(idle);
        iter.stop();
      }
      if (stalled) {
        throw new CliError(
          `reading stream ${stream} stalled after ${messages} messages: nothing for ${Math.round(stallMs / 1000)}s`,
          Exit.TIMEOUT,
        );
      }
    }
  } finally {
    bar.stop();
    file.end();
    await finished(file).catch(() => {});
  }
  return { meta, messages, bytes };
}

async function* savedMessages(path: string): AsyncGenerator<SavedMsg> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    try {
      yield JSON.parse(line) as SavedMsg;
    } catch (err) {
      throw new CliError(`${path}:${n}: not a saved message (${(err as Error).message})`, Exit.USAGE);
    }
  }
}

/** first_seq is a stream setting from nats-server 2.10 on (Lattice speaks 2.10 or later). */
function versionAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? "");
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** How many publishes may wait for their acknowledgement at once (one connection keeps them in order). */
const WINDOW = 256;

/**
 * Create the stream from a message backup and publish its messages again. The stream is first created without
 * what would get in the way of republishing (sealed, sources, subject transform, republish; subjects widened to
 * cover every saved message), then given its saved configuration. Consumers come first on interest streams
 * (messages nobody is interested in are not kept) and last otherwise.
 */
export async function restoreMessages(
  s: Session,
  dir: string,
  meta: MessageBackupMeta,
  opts: { progress: boolean },
): Promise<{ info: StreamInfo; published: number; duplicates: number }> {
  const path = join(dir, MESSAGES_FILE);
  const cfg = meta.config;
  const name = cfg.name;
  if (cfg.mirror) {
    throw new CliError(
      `stream ${name} is a mirror: its messages come from ${cfg.mirror.name}; restore that stream, or drop "mirror" with --config`,
      Exit.USAGE,
    );
  }
  // Subjects the saved messages are on that the configuration no longer covers.
  const covered = cfg.subjects ?? [];
  const extra = new Set<string>();
  let total = 0;
  for await (const m of savedMessages(path)) {
    total++;
    if (!covered.some((p) => subjectMatches(p, m.subject))) extra.add(m.subject);
  }

  const create: Record<string, unknown> = structuredClone(cfg) as unknown as Record<string, unknown>;
  for (const k of ["sealed", "sources", "subject_transform", "republish"]) delete create[k];
  if (extra.size > 0) create.subjects = [...covered, ...extra];
  if (meta.state.first_seq > 1 && versionAtLeast(s.nc.info?.version, 2, 10)) {
    create.first_seq = meta.state.first_seq;
  }
  const jsm = await s.jsm();
  // Adding a stream with the same configuration succeeds on an existing one: publishing would then double it.
  const exists = await jsm.streams.info(name).then(
    () => true,
    (err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) return false;
      throw err;
    },
  );
  if (exists) {
    throw new CliError(
      `stream name already in use: ${name} exists (remove it first: lattice stream rm ${name})`,
    );
  }
  await jsm.streams.add(create as unknown as StreamConfig);

  const addConsumers = async () => {
    for (const c of meta.consumers) await jsm.consumers.add(name, c);
  };
  if (cfg.retention === "interest") await addConsumers();

  const js = await s.js();
  const bar = progressBar(total, "items", `restore ${name}`, progressWanted(!opts.progress));
  let published = 0;
  let duplicates = 0;
  const inFlight = new Set<Promise<void>>();
  // The first refusal, kept here: a publish that fails while the file is still being read has already
  // left the in-flight set by the time anything awaits it.
  let refused: { err: unknown } | undefined;
  try {
    for await (const m of savedMessages(path)) {
      if (refused !== undefined) break;
      const p: Promise<void> = js
        .publish(m.subject, Buffer.from(m.data, "base64"), { headers: headersFrom(m.headers) })
        .then(
          (ack) => {
            if (ack.duplicate) duplicates++;
            published++;
            bar.update(published);
          },
          (err: unknown) => {
            refused ??= { err };
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= WINDOW) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (refused !== undefined) throw refused.err;
  } catch (err) {
    // The stream stays as far as it got: say so, with the server's reason.
    const { message, exitCode } = describeError(err);
    throw new CliError(
      `restoring stream ${name} stopped after ${published} of ${total} messages, leaving the stream as it is: ${message}`,
      exitCode,
    );
  } finally {
    bar.stop();
  }

  if (cfg.retention !== "interest") await addConsumers();
  const current = (await jsm.streams.info(name)).config;
  const wanted = { ...current, ...cfg, subjects: cfg.subjects } as StreamConfig;
  if (JSON.stringify(current) !== JSON.stringify(wanted)) await jsm.streams.update(name, wanted);
  return { info: await jsm.streams.info(name), published, duplicates };
}
