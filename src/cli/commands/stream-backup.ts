// lattice stream backup|restore: a stream to a directory and back. Two formats: the server's snapshot
// (backup.json + stream.tar.s2) over the JetStream snapshot/restore API ($JS.API.STREAM.SNAPSHOT / RESTORE),
// which the client libraries do not wrap (chunks are acknowledged one by one, the server's flow control); or,
// where a server has no snapshots or on request, the messages themselves (see stream-backup-messages.ts).

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
import { type Command, Option } from "commander";
import { action, examples } from "../command-kit.js";
import { loadConfigFile } from "../config-flags.js";
import { type Session, withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import { humanBytes, humanCount, note, out, printJson } from "../output.js";
import { parseSize } from "../parse.js";
import { progressBar, progressWanted } from "../progress.js";
import {
  backupMessages,
  MESSAGES_FILE,
  MESSAGES_FORMAT,
  type MessageBackupMeta,
  restoreMessages,
} from "./stream-backup-messages.js";

const META = "backup.json";
/** JetStream's "not implemented" error code, which a server without stream snapshots answers. */
const NOT_IMPLEMENTED = 10501;
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

/** backup.json of either format, with --config's fields applied (never the name). */
function loadBackup(dir: string, configPath: string | undefined): BackupMeta | MessageBackupMeta {
  let meta: BackupMeta | MessageBackupMeta;
  try {
    meta = JSON.parse(readFileSync(join(dir, META), "utf8")) as BackupMeta | MessageBackupMeta;
  } catch (err) {
    throw new CliError(`${dir} does not hold a backup (${META}): ${(err as Error).message}`, Exit.USAGE);
  }
  const data = isMessageBackup(meta) ? MESSAGES_FILE : DATA;
  if (!existsSync(join(dir, data))) throw new CliError(`${dir} has no ${data}`, Exit.USAGE);
  if (configPath !== undefined) {
    const override = loadConfigFile<StreamConfig>(configPath, "stream");
    meta.config = { ...meta.config, ...override, name: meta.config.name };
  }
  return meta;
}

function isMessageBackup(meta: BackupMeta | MessageBackupMeta): meta is MessageBackupMeta {
  return (meta as Partial<MessageBackupMeta>).format === MESSAGES_FORMAT;
}

async function restore(
  s: Session,
  dir: string,
  meta: BackupMeta,
  opts: { chunkSize: number; progress: boolean },
): Promise<StreamInfo> {
  const dataPath = join(dir, DATA);
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
    .description(
      `save a stream (and its consumers) to a directory: ${META} and the server's snapshot (${DATA}) or the messages (${MESSAGES_FILE})`,
    )
    .argument("<stream>", "stream name")
    .argument("<dir>", "directory to write (created if missing)")
    .addOption(
      new Option(
        "--format <format>",
        "snapshot: the server's own; messages: portable, read with a consumer; auto: a snapshot where the server can make one",
      )
        .choices(["auto", "snapshot", "messages"])
        .default("auto"),
    )
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
          opts: {
            format: "auto" | "snapshot" | "messages";
            consumers: boolean;
            chunkSize: number;
            force?: boolean;
            progress: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          if (existsSync(dir) && readdirSync(dir).length > 0 && !opts.force) {
            throw new CliError(`${dir} is not empty: use --force to write into it`, Exit.USAGE);
          }
          await withSession(cmd, async (s) => {
            let snapshot: Awaited<ReturnType<typeof backup>> | undefined;
            if (opts.format !== "messages") {
              try {
                snapshot = await backup(s, name, dir, opts);
              } catch (err) {
                const unsupported = err instanceof JetStreamApiError && err.code === NOT_IMPLEMENTED;
                if (opts.format === "snapshot" || !unsupported) throw err;
                note(
                  `The server cannot make stream snapshots: saving the messages instead (--format messages)`,
                );
              }
            }
            if (snapshot === undefined) {
              const m = await backupMessages(s, name, dir, opts);
              // Written last: a directory with backup.json holds a complete backup.
              writeFileSync(join(dir, META), `${JSON.stringify(m.meta, null, 2)}\n`);
              if (opts.json) {
                printJson({ stream: name, dir, format: "messages", messages: m.messages, bytes: m.bytes });
                return;
              }
              out(
                `Backed up stream ${name} (${humanCount(m.messages)} messages, ${humanBytes(m.bytes)} of message data${m.meta.consumers.length > 0 ? `, ${m.meta.consumers.length} consumer${m.meta.consumers.length === 1 ? "" : "s"}` : ""}) to ${dir}`,
              );
              return;
            }
            const r = snapshot;
            if (opts.json) {
              printJson({
                stream: name,
                dir,
                format: "snapshot",
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
    "lattice stream backup ORDERS ./backups/orders --format messages",
  );
  b.addHelpText(
    "after",
    `
A message backup (--format messages, or auto on a server without snapshots) keeps the configuration, every
message's subject, headers and body in order, and the durable consumers' configurations. It does not keep
sequence numbers after gaps (restored messages are numbered without gaps, from the first sequence where the
server honours first_seq), stored timestamps (max_age counts from the restore), or consumers' delivery and
acknowledgement state. Messages whose Nats-Msg-Id repeats within the duplicate window are dropped on restore,
and reported. Mirrors cannot be restored from their messages: restore their origin.
`,
  );

  const r = stream
    .command("restore")
    .description(
      "recreate a stream from a backup directory (the stream must not exist): a snapshot, or saved messages",
    )
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
          const meta = loadBackup(dir, opts.config);
          await withSession(cmd, async (s) => {
            let si: StreamInfo;
            if (isMessageBackup(meta)) {
              const r = await restoreMessages(s, dir, meta, opts);
              si = r.info;
              if (r.duplicates > 0) {
                note(
                  `${humanCount(r.duplicates)} messages were dropped as duplicates (their Nats-Msg-Id repeats within the duplicate window)`,
                );
              }
            } else {
              si = await restore(s, dir, meta, opts);
            }
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
