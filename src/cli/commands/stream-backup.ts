// lattice stream backup|restore: a stream's snapshot to a directory (backup.json + stream.tar.s2) and back,
// over the JetStream snapshot/restore API ($JS.API.STREAM.SNAPSHOT / RESTORE), which the client libraries do
// not wrap. Chunks are acknowledged one by one, which is the server's flow control.

import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { type ApiError, JetStreamApiError, type StreamConfig, type StreamInfo } from "@nats-io/jetstream";
import { createInbox, Empty, type Msg } from "@nats-io/transport-node";
import type { Command } from "commander";
import { action, examples } from "../command-kit.js";
import { type Session, withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import { humanBytes, humanCount, out, printJson } from "../output.js";
import { parseSize } from "../parse.js";
import { progressBar, progressWanted } from "../progress.js";

const META = "backup.json";
const DATA = "stream.tar.s2";

interface BackupMeta {
  config: StreamConfig;
  state: StreamInfo["state"];
}

function apiPrefix(s: Session): string {
  return s.conn.jsDomain ? `$JS.${s.conn.jsDomain}.API` : "$JS.API";
}

/** One JetStream API call that the libraries do not wrap; an `error` in the answer is thrown as theirs are. */
async function api<T>(s: Session, subject: string, body: unknown, timeoutMs = s.conn.timeoutMs): Promise<T> {
  const m = await s.nc.request(`${apiPrefix(s)}.${subject}`, JSON.stringify(body), { timeout: timeoutMs });
  return parseApi<T>(m);
}

function parseApi<T>(m: Msg): T {
  const r = JSON.parse(m.string()) as T & { error?: ApiError };
  if (r.error !== undefined) throw new JetStreamApiError(r.error);
  return r;
}

async function backup(
  s: Session,
  stream: string,
  dir: string,
  opts: { consumers: boolean; chunkSize: number; progress: boolean },
): Promise<{ meta: BackupMeta; bytes: number; chunks: number }> {
  const inbox = createInbox();
  const sub = s.nc.subscribe(inbox);
  const meta = await api<BackupMeta>(s, `STREAM.SNAPSHOT.${stream}`, {
    deliver_subject: inbox,
    no_consumers: !opts.consumers,
    chunk_size: opts.chunkSize,
  }).catch((err) => {
    sub.unsubscribe();
    throw err;
  });
  mkdirSync(dir, { recursive: true });
  const file = createWriteStream(join(dir, DATA));
  // The snapshot is compressed, so the stored size is only an upper bound for the bar.
  const bar = progressBar(meta.state.bytes, "bytes", `backup ${stream}`, progressWanted(!opts.progress));
  let bytes = 0;
  let chunks = 0;
  let failure: Error | undefined;
  let last = Date.now();
  const idle = setInterval(() => {
    if (Date.now() - last > Math.max(s.conn.timeoutMs, 5000)) {
      failure = new CliError(
        `the snapshot of ${stream} stalled: no data for ${Math.round((Date.now() - last) / 1000)}s`,
        Exit.TIMEOUT,
      );
      sub.unsubscribe();
    }
  }, 250);
  try {
    for await (const m of sub) {
      last = Date.now();
      const code = m.headers?.code ?? 0;
      if (code >= 400) {
        failure = new CliError(
          `the snapshot of ${stream} failed: ${m.headers?.description || `status ${code}`}`,
        );
        break;
      }
      if (m.data.length === 0) break; // end of snapshot
      chunks++;
      bytes += m.data.length;
      bar.update(Math.min(bytes, meta.state.bytes));
      if (!file.write(m.data)) await new Promise<void>((r) => file.once("drain", () => r()));
      if (m.reply) m.respond(Empty);
    }
  } finally {
    clearInterval(idle);
    sub.unsubscribe();
    bar.stop();
    file.end();
    await finished(file).catch(() => {});
  }
  if (failure) throw failure;
  // Written last: a directory with backup.json holds a complete snapshot.
  writeFileSync(join(dir, META), `${JSON.stringify({ config: meta.config, state: meta.state }, null, 2)}\n`);
  return { meta, bytes, chunks };
}

async function restore(
  s: Session,
  dir: string,
  opts: { config?: string; chunkSize: number; progress: boolean },
): Promise<StreamInfo> {
  let meta: BackupMeta;
  try {
    meta = JSON.parse(readFileSync(join(dir, META), "utf8")) as BackupMeta;
  } catch (err) {
    throw new CliError(`${dir} does not hold a backup (${META}): ${(err as Error).message}`, Exit.USAGE);
  }
  const dataPath = join(dir, DATA);
  if (!existsSync(dataPath)) throw new CliError(`${dir} has no ${DATA}`, Exit.USAGE);
  if (opts.config !== undefined) {
    const override = JSON.parse(readFileSync(opts.config, "utf8")) as Partial<StreamConfig>;
    meta.config = { ...meta.config, ...override, name: meta.config.name };
  }
  const name = meta.config.name;
  const { deliver_subject } = await api<{ deliver_subject: string }>(s, `STREAM.RESTORE.${name}`, {
    config: meta.config,
    state: meta.state,
  });
  const size = statSync(dataPath).size;
  const bar = progressBar(size, "bytes", `restore ${name}`, progressWanted(!opts.progress));
  const fh = await open(dataPath, "r");
  try {
    const buf = Buffer.alloc(opts.chunkSize);
    let sent = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, sent);
      if (bytesRead === 0) break;
      const ack = await s.nc.request(deliver_subject, buf.subarray(0, bytesRead), {
        timeout: s.conn.timeoutMs,
      });
      if (ack.data.length > 0) parseApi(ack); // an error instead of an empty acknowledgement
      sent += bytesRead;
      bar.update(sent);
    }
  } finally {
    await fh.close();
    bar.stop();
  }
  // The empty message ends the upload; the answer is the restored stream (or why it failed).
  const done = await s.nc.request(deliver_subject, Empty, { timeout: Math.max(s.conn.timeoutMs, 30_000) });
  return parseApi<StreamInfo>(done);
}

export function registerStreamBackup(stream: Command): void {
  const b = stream
    .command("backup")
    .description(`save a stream (and its consumers) to a directory: ${META} and ${DATA}`)
    .argument("<stream>", "stream name")
    .argument("<dir>", "directory to write (created if missing)")
    .option("--no-consumers", "leave the consumers out")
    .option("--chunk-size <size>", "snapshot chunk size", parseSize, 128 * 1024)
    .option("-f, --force", "write into a directory that is not empty")
    .option("--no-progress", "no progress bar")
    .option("--json", "print what was saved as JSON")
    .action(
      action(
        async (
          name: string,
          dir: string,
          opts: { consumers: boolean; chunkSize: number; force?: boolean; progress: boolean; json?: boolean },
          cmd: Command,
        ) => {
          if (existsSync(dir) && readdirSync(dir).length > 0 && !opts.force) {
            throw new CliError(`${dir} is not empty: use --force to write into it`, Exit.USAGE);
          }
          await withSession(cmd, async (s) => {
            const r = await backup(s, name, dir, opts);
            if (opts.json) {
              printJson({
                stream: name,
                dir,
                bytes: r.bytes,
                chunks: r.chunks,
                messages: r.meta.state.messages,
              });
              return;
            }
            out(
              `Backed up stream ${name} (${humanCount(r.meta.state.messages)} messages, ${humanBytes(r.meta.state.bytes)}) to ${dir}: ${humanBytes(r.bytes)} in ${r.chunks} chunks`,
            );
          });
        },
      ),
    );
  examples(
    b,
    "lattice stream backup ORDERS ./backups/orders",
    "lattice stream backup ORDERS /tmp/orders --no-consumers --force",
  );

  const r = stream
    .command("restore")
    .description("recreate a stream from a backup directory (the stream must not exist)")
    .argument("<dir>", "directory written by lattice stream backup")
    .option("--config <file>", "JSON with configuration fields to change (not the name)")
    .option("--chunk-size <size>", "upload chunk size", parseSize, 128 * 1024)
    .option("--no-progress", "no progress bar")
    .option("--json", "print the restored stream's information as JSON")
    .action(
      action(
        async (
          dir: string,
          opts: { config?: string; chunkSize: number; progress: boolean; json?: boolean },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const si = await restore(s, dir, opts);
            if (opts.json) {
              printJson(si);
              return;
            }
            const consumers = si.state.consumer_count;
            out(
              `Restored stream ${si.config.name}: ${humanCount(si.state.messages)} messages, ${humanBytes(si.state.bytes)}${consumers > 0 ? `, ${consumers} consumer${consumers === 1 ? "" : "s"}` : ""}`,
            );
          });
        },
      ),
    );
  examples(r, "lattice stream restore ./backups/orders");
}
