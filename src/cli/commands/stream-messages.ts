// lattice stream purge|view|get|rmm|subjects: a stream's messages, read without a consumer.

import type { JetStreamManager, MsgRequest, PurgeOpts, StoredMsg } from "@nats-io/jetstream";
import type { Command } from "commander";
import { action, askYes, confirm, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError, usageError } from "../errors.js";
import { printMsg } from "../messages.js";
import { humanCount, note, out, printJson, printTable } from "../output.js";
import { parseNonNegative, parsePositive, parseSince } from "../parse.js";

import { printStreamInfo } from "./stream-info.js";

async function streamPage(
  jsm: JetStreamManager,
  stream: string,
  startSeq: number,
  filter: string,
  count: number,
): Promise<StoredMsg[]> {
  const msgs: StoredMsg[] = [];
  let seq = startSeq;
  while (msgs.length < count) {
    // next_by_subj: the first message at or after `seq` on the filter (nats-server 2.9+, Lattice).
    const m = await jsm.streams.getMessage(stream, { seq, next_by_subj: filter } as unknown as MsgRequest);
    if (m === null) break;
    msgs.push(m);
    seq = m.seq + 1;
  }
  return msgs;
}

/**
 * The first sequence whose message was stored at or after `since`, found by binary search over the stream
 * (timestamps grow with sequences), so it works on any server that answers message gets: O(log n) requests.
 * Returns last_seq + 1 when every message is older.
 */
export async function firstSeqSince(
  jsm: JetStreamManager,
  stream: string,
  since: Date,
  firstSeq: number,
  lastSeq: number,
): Promise<number> {
  let lo = Math.max(firstSeq, 1);
  let hi = lastSeq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    // The first message at or after `mid` (deleted sequences are skipped).
    const m = await jsm.streams.getMessage(stream, { seq: mid, next_by_subj: ">" } as unknown as MsgRequest);
    if (m === null || m.seq > lastSeq || m.time.getTime() >= since.getTime()) hi = mid;
    else lo = m.seq + 1;
  }
  return lo;
}

function printStored(m: StoredMsg, opts: { raw?: boolean; json?: boolean }): void {
  printMsg(
    { subject: m.subject, data: m.data, headers: m.header, seq: m.seq, time: m.timestamp },
    { raw: opts.raw, json: opts.json, label: String(m.seq) },
  );
}

export function registerStreamMessages(stream: Command): void {
  const purge = stream
    .command("purge")
    .description("remove messages from a stream: all, by subject, up to a sequence, or all but the newest")
    .argument("<stream>", "stream name")
    .option("--subject <subject>", "only messages on this subject (wildcards allowed)")
    .option("--seq <n>", "messages below this sequence", parsePositive)
    .option("--keep <n>", "keep this many of the newest messages", parseNonNegative)
    .option("-f, --force", "do not ask for confirmation")
    .option("--json", "print the purge result and stream information as JSON")
    .action(
      action(
        async (
          name: string,
          opts: { subject?: string; seq?: number; keep?: number; force?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          if (opts.seq !== undefined && opts.keep !== undefined)
            throw usageError("--seq and --keep cannot be combined");
          await confirm(`Really purge stream ${name}?`, opts.force);
          const req: Record<string, unknown> = {};
          if (opts.subject !== undefined) req.filter = opts.subject;
          if (opts.seq !== undefined) req.seq = opts.seq;
          if (opts.keep !== undefined) req.keep = opts.keep;
          await withSession(cmd, async (s) => {
            const jsm = await s.jsm();
            const r = await jsm.streams.purge(
              name,
              Object.keys(req).length > 0 ? (req as PurgeOpts) : undefined,
            );
            const si = await jsm.streams.info(name);
            if (opts.json) {
              printJson({ purged: r.purged, stream: si });
              return;
            }
            out(`Purged ${humanCount(r.purged)} messages from stream ${name}`);
            out();
            printStreamInfo(si, "Information for Stream");
          });
        },
      ),
    );
  examples(
    purge,
    "lattice stream purge ORDERS -f",
    "lattice stream purge ORDERS --subject 'orders.cancelled' -f",
    "lattice stream purge ORDERS --keep 100 -f",
    "lattice stream purge ORDERS --seq 1000 -f",
  );

  const view = stream
    .command("view")
    .description("page through a stream's messages (no consumer needed)")
    .argument("<stream>", "stream name")
    .option("--subject <filter>", "only messages on this subject (wildcards allowed)")
    .option("--start-seq <n>", "start at this sequence", parsePositive)
    .option(
      "--since <when>",
      "start with messages stored since a time (RFC 3339) or a duration ago (e.g. 1h)",
      parseSince,
    )
    .option("--count <n>", "messages per page", parsePositive, 10)
    .option("--all", "print every message without paging")
    .option("--raw", "print only message bodies")
    .option("--json", "print one JSON object per message")
    .action(
      action(
        async (
          name: string,
          opts: {
            subject?: string;
            startSeq?: number;
            since?: Date;
            count: number;
            all?: boolean;
            raw?: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          if (opts.startSeq !== undefined && opts.since !== undefined)
            throw usageError("--start-seq and --since cannot be combined");
          await withSession(cmd, async (s) => {
            const jsm = await s.jsm();
            const si = await jsm.streams.info(name);
            let seq = Math.max(opts.startSeq ?? si.state.first_seq, 1);
            if (opts.since !== undefined) {
              seq = await firstSeqSince(jsm, name, opts.since, si.state.first_seq, si.state.last_seq);
            }
            const filter = opts.subject ?? ">";
            const interactive = !opts.all && !opts.json && !opts.raw && process.stdin.isTTY === true;
            let shown = 0;
            for (;;) {
              const page = await streamPage(jsm, name, seq, filter, opts.all ? 1000 : opts.count);
              for (const m of page) printStored(m, opts);
              shown += page.length;
              if (page.length === 0) {
                if (shown === 0 && !opts.json) {
                  const since = opts.since ? ` since ${opts.since.toISOString()}` : "";
                  note(`No messages in stream ${name}${opts.subject ? ` on ${opts.subject}` : ""}${since}`);
                }
                return;
              }
              seq = page[page.length - 1].seq + 1;
              if (seq > si.state.last_seq && !opts.all) return;
              if (opts.all) continue;
              if (!interactive) {
                const subject = opts.subject ? ` --subject '${opts.subject}'` : "";
                note(
                  `More messages may follow: lattice stream view ${name}${subject} --start-seq ${seq} --count ${opts.count}`,
                );
                return;
              }
              if (!(await askYes("Next page?"))) return;
            }
          });
        },
      ),
    );
  examples(
    view,
    "lattice stream view ORDERS",
    "lattice stream view ORDERS --subject 'orders.new' --start-seq 100 --count 20",
    "lattice stream view ORDERS --since 30m --subject 'orders.*'",
    "lattice stream view ORDERS --since 2025-01-01T00:00:00Z --all --json",
  );

  const get = stream
    .command("get")
    .description("get one message by sequence, or the last one on a subject")
    .argument("<stream>", "stream name")
    .argument("[seq]", "sequence number", parsePositive)
    .option("--last-for <subject>", "the newest message on this subject")
    .option("--raw", "print only the message body")
    .option("--json", "print the message as JSON")
    .action(
      action(
        async (
          name: string,
          seq: number | undefined,
          opts: { lastFor?: string; raw?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          if ((seq === undefined) === (opts.lastFor === undefined)) {
            throw usageError("give either a sequence number or --last-for <subject>");
          }
          await withSession(cmd, async (s) => {
            const jsm = await s.jsm();
            const m = await jsm.streams.getMessage(
              name,
              seq !== undefined ? { seq } : { last_by_subj: opts.lastFor as string },
            );
            if (m === null) {
              throw new CliError(
                seq !== undefined
                  ? `no message with sequence ${seq} in stream ${name} (JetStream error 10037, status 404)`
                  : `no message on ${opts.lastFor} in stream ${name} (JetStream error 10037, status 404)`,
              );
            }
            printStored(m, opts);
          });
        },
      ),
    );
  examples(get, "lattice stream get ORDERS 12", "lattice stream get ORDERS --last-for orders.new --raw");

  const rmm = stream
    .command("rmm")
    .alias("delete-msg")
    .description("delete one message from a stream by its sequence")
    .argument("<stream>", "stream name")
    .argument("<seq>", "sequence number", parsePositive)
    .option("--erase", "overwrite the message's data in storage too (slower)")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (name: string, seq: number, opts: { erase?: boolean; force?: boolean }, cmd: Command) => {
        await confirm(`Really delete message ${seq} from stream ${name}?`, opts.force);
        await withSession(cmd, async (s) => {
          await (await s.jsm()).streams.deleteMessage(name, seq, opts.erase === true);
          out(`Deleted message ${seq} from stream ${name}`);
        });
      }),
    );
  examples(rmm, "lattice stream rmm ORDERS 12 -f", "lattice stream rmm ORDERS 12 --erase -f");

  const subjects = stream
    .command("subjects")
    .description("list the subjects a stream holds messages on, with counts")
    .argument("<stream>", "stream name")
    .argument("[filter]", "subject filter", ">")
    .option("--json", "print subject counts as JSON")
    .action(
      action(async (name: string, filter: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const si = await (await s.jsm()).streams.info(name, { subjects_filter: filter });
          const counts = si.state.subjects ?? {};
          if (opts.json) {
            printJson(counts);
            return;
          }
          const rows = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
          if (rows.length === 0) {
            out(`No subjects in stream ${name}`);
            return;
          }
          printTable(["Subject", "Messages"], rows, `Subjects in stream ${name} (${rows.length})`);
        });
      }),
    );
  examples(subjects, "lattice stream subjects ORDERS", "lattice stream subjects ORDERS 'orders.*' --json");
}
