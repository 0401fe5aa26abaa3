// lattice stream ls|list|add|info|edit|rm|purge|view|get|subjects: manage JetStream streams.

import { readFileSync } from "node:fs";
import type {
  JetStreamManager,
  MsgRequest,
  PurgeOpts,
  StoredMsg,
  StreamConfig,
  StreamInfo,
} from "@nats-io/jetstream";
import { type Command, Option } from "commander";
import { action, askYes, confirm, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError, Exit, usageError } from "../errors.js";
import { printMsg } from "../messages.js";
import {
  ago,
  type Cell,
  color,
  humanBytes,
  humanCount,
  humanNanos,
  humanTime,
  note,
  out,
  printJson,
  printSections,
  printTable,
  type Section,
} from "../output.js";
import {
  collect,
  collectList,
  durationNanos,
  pairsToRecord,
  parseInteger,
  parseNonNegative,
  parsePositive,
  parseSize,
} from "../parse.js";
import { registerStreamBackup } from "./stream-backup.js";

/** Flags for every stream configuration field; `edit` only gets the ones a stream can change. */
function addConfigOptions(cmd: Command, mode: "add" | "edit"): Command {
  const add = mode === "add";
  cmd
    .option("--config <file>", "stream configuration as JSON (flags override its fields)")
    .option(
      "--subjects <subjects>",
      "subjects the stream listens on, comma separated (repeatable)",
      collectList,
    )
    .option("--description <text>", "description");
  if (add) {
    cmd
      .addOption(new Option("--storage <type>", "storage backend").choices(["file", "memory"]))
      .addOption(
        new Option("--retention <policy>", "retention policy").choices([
          "limits",
          "interest",
          "workqueue",
          "work",
        ]),
      );
  }
  cmd
    .addOption(new Option("--discard <policy>", "what to discard when full").choices(["old", "new"]))
    .option("--discard-new-per-subject", "apply discard new per subject (with --max-msgs-per-subject)")
    .option("--no-discard-new-per-subject", "apply discard new to the whole stream")
    .option("--max-msgs <n>", "maximum messages (-1 unlimited)", parseInteger)
    .option("--max-bytes <size>", "maximum total size, e.g. 1GiB (-1 unlimited)", parseSize)
    .option("--max-age <duration>", "maximum message age, e.g. 24h (0 unlimited)", durationNanos)
    .option("--max-msg-size <size>", "maximum message size (-1 unlimited)", parseSize)
    .option("--max-msgs-per-subject <n>", "messages kept per subject (-1 unlimited)", parseInteger);
  if (add) cmd.option("--max-consumers <n>", "maximum consumers (-1 unlimited)", parseInteger);
  cmd
    .option("--replicas <n>", "number of replicas", parsePositive)
    .option("--dupe-window <duration>", "duplicate-detection window", durationNanos)
    .option("--ack", "acknowledge publishes (default)")
    .option("--no-ack", "do not acknowledge publishes")
    .option("--allow-rollup", "allow Nats-Rollup headers")
    .option("--no-allow-rollup", "refuse Nats-Rollup headers")
    .option("--deny-delete", "forbid deleting messages")
    .option("--no-deny-delete", "allow deleting messages")
    .option("--deny-purge", "forbid purging")
    .option("--no-deny-purge", "allow purging")
    .option("--allow-direct", "answer direct get requests")
    .option("--no-allow-direct", "no direct get")
    .option("--mirror-direct", "mirrors answer direct gets for their origin")
    .option("--no-mirror-direct", "mirrors do not answer direct gets")
    .addOption(new Option("--compression <algorithm>", "storage compression").choices(["none", "s2"]))
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--republish-source <subject>", "republish messages matching this subject")
    .option("--republish-destination <subject>", "... to this subject")
    .option("--republish-headers", "republish headers only")
    .option("--transform-source <subject>", "subject transform: source pattern")
    .option("--transform-destination <subject>", "subject transform: destination")
    .option("--source <stream>", "source messages from this stream (repeatable)", collect)
    .option("--placement-cluster <name>", "place in this cluster")
    .option("--placement-tags <tags>", "place on servers with these tags, comma separated", collectList)
    .option("--allow-msg-ttl", "allow per-message TTLs (Nats-TTL)")
    .option(
      "--subject-delete-marker-ttl <duration>",
      "leave delete markers that live this long",
      durationNanos,
    )
    .option(
      "--consumer-inactive-threshold <duration>",
      "default inactive threshold for consumers",
      durationNanos,
    )
    .option("--consumer-max-ack-pending <n>", "default max ack pending for consumers", parseInteger)
    .option("--allow-msg-counter", "allow counter messages")
    .option("--allow-atomic", "allow atomic batch publishes")
    .option("--allow-msg-schedules", "allow message schedules");
  if (add) {
    cmd
      .option("--mirror <stream>", "mirror this stream")
      .option("--first-seq <n>", "first sequence number", parsePositive)
      .addOption(new Option("--persist-mode <mode>", "persistence mode").choices(["default", "async"]));
  } else {
    cmd.option("--seal", "seal the stream: no more writes, deletes or purges (irreversible)");
  }
  return cmd.option("--json", "print the resulting stream information as JSON");
}

type Flags = Record<string, unknown>;

function loadConfigFile(path: string): Partial<StreamConfig> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, Exit.USAGE);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    // `stream info --json` output can be fed back: take its config.
    const o = v as Record<string, unknown>;
    return (o.config !== undefined && typeof o.config === "object" ? o.config : o) as Partial<StreamConfig>;
  } catch (err) {
    throw new CliError(`${path}: invalid stream configuration: ${(err as Error).message}`, Exit.USAGE);
  }
}

/** Apply the flags given on the command line onto a configuration. */
export function applyStreamFlags(cfg: Partial<StreamConfig>, f: Flags): Partial<StreamConfig> {
  const c = cfg as Record<string, unknown>;
  const set = (key: string, v: unknown) => {
    if (v !== undefined) c[key] = v;
  };
  set("subjects", f.subjects);
  set("description", f.description);
  set("storage", f.storage);
  if (f.retention !== undefined) c.retention = f.retention === "work" ? "workqueue" : f.retention;
  set("discard", f.discard);
  set("discard_new_per_subject", f.discardNewPerSubject);
  set("max_msgs", f.maxMsgs);
  set("max_bytes", f.maxBytes);
  set("max_age", f.maxAge);
  set("max_msg_size", f.maxMsgSize);
  set("max_msgs_per_subject", f.maxMsgsPerSubject);
  set("max_consumers", f.maxConsumers);
  set("num_replicas", f.replicas);
  set("duplicate_window", f.dupeWindow);
  if (f.ack !== undefined) c.no_ack = !f.ack;
  set("allow_rollup_hdrs", f.allowRollup);
  set("deny_delete", f.denyDelete);
  set("deny_purge", f.denyPurge);
  set("allow_direct", f.allowDirect);
  set("mirror_direct", f.mirrorDirect);
  set("compression", f.compression);
  const md = pairsToRecord(f.metadata as string[] | undefined);
  if (md !== undefined) c.metadata = { ...((c.metadata as Record<string, string>) ?? {}), ...md };
  if (f.republishSource !== undefined || f.republishDestination !== undefined) {
    if (f.republishDestination === undefined)
      throw usageError("--republish-source needs --republish-destination");
    c.republish = {
      src: (f.republishSource as string | undefined) ?? ">",
      dest: f.republishDestination as string,
      headers_only: f.republishHeaders === true,
    };
  } else if (f.republishHeaders === true) {
    throw usageError("--republish-headers needs --republish-destination");
  }
  if (f.transformSource !== undefined || f.transformDestination !== undefined) {
    if (f.transformDestination === undefined)
      throw usageError("--transform-source needs --transform-destination");
    c.subject_transform = {
      src: (f.transformSource as string | undefined) ?? ">",
      dest: f.transformDestination,
    };
  }
  if (f.source !== undefined) {
    c.sources = (f.source as string[]).map((name) => ({ name }));
  }
  if (f.mirror !== undefined) c.mirror = { name: f.mirror };
  if (f.placementCluster !== undefined || f.placementTags !== undefined) {
    c.placement = { cluster: (f.placementCluster as string | undefined) ?? "", tags: f.placementTags ?? [] };
  }
  set("allow_msg_ttl", f.allowMsgTtl);
  set("subject_delete_marker_ttl", f.subjectDeleteMarkerTtl);
  if (f.consumerInactiveThreshold !== undefined || f.consumerMaxAckPending !== undefined) {
    const limits = { ...((c.consumer_limits as Record<string, unknown>) ?? {}) };
    if (f.consumerInactiveThreshold !== undefined) limits.inactive_threshold = f.consumerInactiveThreshold;
    if (f.consumerMaxAckPending !== undefined) limits.max_ack_pending = f.consumerMaxAckPending;
    c.consumer_limits = limits;
  }
  set("allow_msg_counter", f.allowMsgCounter);
  set("allow_atomic", f.allowAtomic);
  set("allow_msg_schedules", f.allowMsgSchedules);
  set("first_seq", f.firstSeq);
  set("persist_mode", f.persistMode);
  if (f.seal === true) c.sealed = true;
  return cfg;
}

function yesNo(b: boolean | undefined): string {
  return b ? "true" : "false";
}

function limit(n: number | undefined, fmt: (n: number) => string = (v) => humanCount(v)): string {
  return n === undefined || n < 0 ? "unlimited" : fmt(n);
}

/** The sections `stream info` prints (also after add and edit). */
export function streamInfoSections(si: StreamInfo): Section[] {
  const c = si.config;
  const s = si.state;
  const config: Section = {
    title: "Configuration",
    rows: [
      c.description ? ["Description", c.description] : undefined,
      c.subjects?.length ? ["Subjects", c.subjects.join(", ")] : undefined,
      ["Replicas", c.num_replicas],
      [
        "Storage",
        `${c.storage === "memory" ? "Memory" : "File"}${c.compression && c.compression !== "none" ? ` (${c.compression} compressed)` : ""}`,
      ],
      [
        "Retention",
        c.retention === "workqueue" ? "WorkQueue" : c.retention === "interest" ? "Interest" : "Limits",
      ],
      ["Acknowledgments", yesNo(!c.no_ack)],
      [
        "Discard Policy",
        `${c.discard === "new" ? "New" : "Old"}${c.discard_new_per_subject ? " Per Subject" : ""}`,
      ],
      ["Duplicate Window", humanNanos(c.duplicate_window, "none")],
      c.first_seq && c.first_seq > 1 ? ["First Sequence", c.first_seq] : undefined,
      ["Direct Get", yesNo(c.allow_direct)],
      c.mirror_direct ? ["Mirror Direct Get", "true"] : undefined,
      ["Allows Msg Delete", yesNo(!c.deny_delete)],
      ["Allows Purge", yesNo(!c.deny_purge)],
      ["Allows Rollups", yesNo(c.allow_rollup_hdrs)],
      c.allow_msg_ttl ? ["Allows Per-Message TTL", "true"] : undefined,
      c.subject_delete_marker_ttl
        ? ["Delete Marker TTL", humanNanos(c.subject_delete_marker_ttl)]
        : undefined,
      c.sealed ? ["Sealed", "true"] : undefined,
      ["Maximum Messages", limit(c.max_msgs)],
      ["Maximum Per Subject", limit(c.max_msgs_per_subject)],
      ["Maximum Bytes", limit(c.max_bytes, humanBytes)],
      ["Maximum Age", humanNanos(c.max_age)],
      ["Maximum Message Size", limit(c.max_msg_size, humanBytes)],
      ["Maximum Consumers", limit(c.max_consumers)],
      c.republish
        ? [
            "Republishing",
            `${c.republish.src} -> ${c.republish.dest}${c.republish.headers_only ? " (headers only)" : ""}`,
          ]
        : undefined,
      c.subject_transform
        ? ["Subject Transform", `${c.subject_transform.src ?? ">"} -> ${c.subject_transform.dest}`]
        : undefined,
      c.mirror ? ["Mirror", c.mirror.name] : undefined,
      c.sources?.length ? ["Sources", c.sources.map((x) => x.name).join(", ")] : undefined,
      c.placement?.cluster || c.placement?.tags?.length
        ? ["Placement", [c.placement.cluster, ...(c.placement.tags ?? [])].filter((x) => x).join(", ")]
        : undefined,
      c.consumer_limits?.inactive_threshold
        ? ["Consumer Inactive Threshold", humanNanos(c.consumer_limits.inactive_threshold)]
        : undefined,
      c.consumer_limits?.max_ack_pending
        ? ["Consumer Max Ack Pending", c.consumer_limits.max_ack_pending]
        : undefined,
      ...Object.entries(c.metadata ?? {})
        .filter(([k]) => !k.startsWith("_nats."))
        .map(([k, v]): [string, Cell] => [`Metadata ${k}`, v]),
    ],
  };
  const state: Section = {
    title: "State",
    rows: [
      ["Messages", humanCount(s.messages)],
      ["Bytes", humanBytes(s.bytes)],
      [
        "First Sequence",
        s.messages > 0 ? `${humanCount(s.first_seq)} @ ${humanTime(s.first_ts)}` : humanCount(s.first_seq),
      ],
      [
        "Last Sequence",
        s.last_seq > 0 ? `${humanCount(s.last_seq)} @ ${humanTime(s.last_ts)}` : humanCount(s.last_seq),
      ],
      s.num_deleted ? ["Deleted Messages", humanCount(s.num_deleted)] : undefined,
      ["Active Consumers", humanCount(s.consumer_count)],
      s.num_subjects !== undefined ? ["Number of Subjects", humanCount(s.num_subjects)] : undefined,
    ],
  };
  const extra: Section[] = [];
  if (si.mirror) {
    extra.push({
      title: "Mirror Information",
      rows: [
        ["Stream Name", si.mirror.name],
        ["Lag", humanCount(si.mirror.lag)],
        ["Last Seen", si.mirror.active < 0 ? "never" : humanNanos(si.mirror.active, "now")],
      ],
    });
  }
  for (const src of si.sources ?? []) {
    extra.push({
      title: `Source ${src.name}`,
      rows: [
        ["Lag", humanCount(src.lag)],
        ["Last Seen", src.active < 0 ? "never" : humanNanos(src.active, "now")],
      ],
    });
  }
  return [config, ...extra, state];
}

function printStreamInfo(si: StreamInfo, heading: string): void {
  out(color.bold(`${heading} ${si.config.name} created ${humanTime(si.created)}`));
  out();
  printSections(streamInfoSections(si));
}

function diffConfigs(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const lines: string[] = [];
  for (const k of [...keys].sort()) {
    const a = JSON.stringify(before[k]);
    const b = JSON.stringify(after[k]);
    if (a !== b) lines.push(`  ${k}: ${a ?? "(unset)"} -> ${b ?? "(unset)"}`);
  }
  return lines;
}

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

function printStored(m: StoredMsg, opts: { raw?: boolean; json?: boolean }): void {
  printMsg(
    { subject: m.subject, data: m.data, headers: m.header, seq: m.seq, time: m.timestamp },
    { raw: opts.raw, json: opts.json, label: String(m.seq) },
  );
}

export function registerStream(program: Command): void {
  const stream = program
    .command("stream")
    .alias("str")
    .description(
      "manage JetStream streams: ls, add, info, edit, rm, purge, view, get, subjects, backup, restore",
    );
  examples(
    stream,
    "lattice stream ls",
    "lattice stream add ORDERS --subjects 'orders.>'",
    "lattice stream info ORDERS",
  );

  const ls = stream
    .command("ls")
    .alias("list")
    .description("list streams: name, subjects, messages, size, last message")
    .option("--subject <subject>", "only streams that listen on this subject")
    .option("-n, --names", "print only the names")
    .option("--json", "print the stream information as JSON")
    .action(
      action(async (opts: { subject?: string; names?: boolean; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const infos: StreamInfo[] = [];
          for await (const si of jsm.streams.list(opts.subject)) infos.push(si);
          infos.sort((a, b) => a.config.name.localeCompare(b.config.name));
          if (opts.json) {
            printJson(opts.names ? infos.map((i) => i.config.name) : infos);
            return;
          }
          if (opts.names) {
            for (const i of infos) out(i.config.name);
            return;
          }
          if (infos.length === 0) {
            out("No streams defined");
            return;
          }
          printTable(
            ["Name", "Subjects", "Messages", "Size", "Last Message"],
            infos.map((i) => [
              i.config.name,
              (i.config.subjects ?? []).join(", ") ||
                (i.config.mirror ? `mirror of ${i.config.mirror.name}` : ""),
              i.state.messages,
              humanBytes(i.state.bytes),
              i.state.messages > 0 || i.state.last_seq > 0 ? ago(i.state.last_ts) : "never",
            ]),
            `Streams (${infos.length})`,
          );
        });
      }),
    );
  examples(
    ls,
    "lattice stream ls",
    "lattice stream ls --subject 'orders.new' --names",
    "lattice stream ls --json",
  );

  const add = addConfigOptions(
    stream
      .command("add")
      .alias("create")
      .description("create a stream from flags, or from a JSON configuration file")
      .argument("[name]", "stream name (or the name in --config)"),
    "add",
  ).action(
    action(async (name: string | undefined, opts: Flags, cmd: Command) => {
      const base: Partial<StreamConfig> =
        opts.config !== undefined ? loadConfigFile(opts.config as string) : {};
      const cfg = applyStreamFlags(base, opts);
      cfg.name = name ?? cfg.name;
      if (cfg.name === undefined || cfg.name === "")
        throw usageError('a stream name is needed (argument or "name" in --config)');
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const si = await jsm.streams.add(cfg as StreamConfig);
        if (opts.json) printJson(si);
        else printStreamInfo(si, "Stream");
      });
    }),
  );
  examples(
    add,
    "lattice stream add ORDERS --subjects 'orders.>' --max-age 24h --storage file",
    "lattice stream add EVENTS --subjects 'events.*' --max-msgs-per-subject 10 --discard new --replicas 1",
    "lattice stream add --config orders.json",
  );

  const info = stream
    .command("info")
    .description("show a stream's configuration and state")
    .argument("<stream>", "stream name")
    .option("--json", "print the stream information as JSON")
    .action(
      action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const si = await (await s.jsm()).streams.info(name);
          if (opts.json) printJson(si);
          else printStreamInfo(si, "Information for Stream");
        });
      }),
    );
  examples(info, "lattice stream info ORDERS", "lattice stream info ORDERS --json");

  const edit = addConfigOptions(
    stream
      .command("edit")
      .alias("update")
      .description("change a stream's configuration (only the fields given change)")
      .argument("<stream>", "stream name"),
    "edit",
  ).action(
    action(async (name: string, opts: Flags, cmd: Command) => {
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const current = (await jsm.streams.info(name)).config;
        const before = structuredClone(current) as unknown as Record<string, unknown>;
        let next: Partial<StreamConfig> = structuredClone(current);
        if (opts.config !== undefined) next = { ...next, ...loadConfigFile(opts.config as string), name };
        next = applyStreamFlags(next, opts);
        const changes = diffConfigs(before, next as Record<string, unknown>);
        if (changes.length === 0) {
          if (opts.json) printJson(await jsm.streams.info(name));
          else note(`Stream ${name}: nothing to change`);
          return;
        }
        const si = await jsm.streams.update(name, next);
        if (opts.json) {
          printJson(si);
          return;
        }
        out(`Stream ${name} was updated:`);
        out(changes.join("\n"));
        out();
        printStreamInfo(si, "Information for Stream");
      });
    }),
  );
  examples(
    edit,
    "lattice stream edit ORDERS --max-age 48h",
    "lattice stream edit ORDERS --subjects 'orders.>' --subjects 'returns.>'",
    "lattice stream edit ORDERS --no-allow-rollup --description 'order events'",
  );

  const rm = stream
    .command("rm")
    .alias("delete")
    .description("delete a stream and all its messages")
    .argument("<stream>", "stream name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete stream ${name}?`, opts.force);
        await withSession(cmd, async (s) => {
          await (await s.jsm()).streams.delete(name);
          out(`Deleted stream ${name}`);
        });
      }),
    );
  examples(rm, "lattice stream rm ORDERS -f");

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
            count: number;
            all?: boolean;
            raw?: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const jsm = await s.jsm();
            const si = await jsm.streams.info(name);
            let seq = Math.max(opts.startSeq ?? si.state.first_seq, 1);
            const filter = opts.subject ?? ">";
            const interactive = !opts.all && !opts.json && !opts.raw && process.stdin.isTTY === true;
            let shown = 0;
            for (;;) {
              const page = await streamPage(jsm, name, seq, filter, opts.all ? 1000 : opts.count);
              for (const m of page) printStored(m, opts);
              shown += page.length;
              if (page.length === 0) {
                if (shown === 0 && !opts.json)
                  note(`No messages in stream ${name}${opts.subject ? ` on ${opts.subject}` : ""}`);
                return;
              }
              seq = page[page.length - 1].seq + 1;
              if (seq > si.state.last_seq && !opts.all) return;
              if (opts.all) continue;
              if (!interactive) {
                note(`More messages may follow: lattice stream view ${name} --start-seq ${seq}`);
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
    "lattice stream view ORDERS --all --json",
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

  registerStreamBackup(stream);
}
