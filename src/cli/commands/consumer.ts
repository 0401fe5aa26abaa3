// lattice consumer ls|add|info|edit|rm|next|pause|resume: manage JetStream consumers and pull from them.

import { readFileSync } from "node:fs";
import type { ConsumerConfig, ConsumerInfo, JsMsg } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import { action, confirm, examples } from "../command-kit.js";
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
  parseDuration,
  parseInteger,
  parsePositive,
  parseSize,
} from "../parse.js";

type Flags = Record<string, unknown>;

function addConsumerOptions(cmd: Command, mode: "add" | "edit"): Command {
  const add = mode === "add";
  cmd.option("--config <file>", "consumer configuration as JSON (flags override its fields)");
  if (add) {
    cmd
      .option("--ephemeral", "create an ephemeral consumer (removed after --inactive-threshold without use)")
      .option("--pull", "a pull consumer (the default)")
      .option("--target <subject>", "a push consumer delivering to this subject")
      .option("--deliver-group <group>", "queue group for a push consumer's subscribers")
      .option(
        "--deliver <policy>",
        "where to start: all, last, new, last-per-subject, a sequence number, a duration ago (1h) or a time (RFC 3339)",
      )
      .addOption(new Option("--ack <policy>", "acknowledgement policy").choices(["explicit", "none", "all"]))
      .addOption(new Option("--replay <policy>", "replay policy").choices(["instant", "original"]))
      .option("--heartbeat <duration>", "idle heartbeat interval (push)", durationNanos)
      .option("--flow-control", "enable flow control (push)")
      .option("--rate-limit <bits-per-second>", "limit delivery rate (push)", parseInteger)
      .option("--memory", "keep consumer state in memory");
  }
  return cmd
    .option("--description <text>", "description")
    .option("--filter <subject>", "only messages on this subject (repeatable, comma separated)", collectList)
    .option("--wait <duration>", "acknowledgement wait", durationNanos)
    .option("--max-deliver <n>", "deliveries per message before giving up (-1 unlimited)", parseInteger)
    .option("--max-pending <n>", "maximum outstanding unacknowledged messages", parseInteger)
    .option("--max-waiting <n>", "maximum waiting pull requests (pull)", parseInteger)
    .option("--max-batch <n>", "largest batch a pull may ask for (pull)", parseInteger)
    .option("--max-expires <duration>", "longest expiry a pull may ask for (pull)", durationNanos)
    .option("--max-pull-bytes <size>", "largest byte count a pull may ask for (pull)", parseSize)
    .option(
      "--inactive-threshold <duration>",
      "remove the consumer after this long without use",
      durationNanos,
    )
    .option("--backoff <durations>", "redelivery backoff, comma separated (e.g. 1s,5s,30s)", collectList)
    .option("--sample <percent>", "sample this percentage of acknowledgements as advisories", parseInteger)
    .option("--headers-only", "deliver only headers (and the body size)")
    .option("--no-headers-only", "deliver whole messages")
    .option("--replicas <n>", "replicas of the consumer state", parsePositive)
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--json", "print the resulting consumer information as JSON");
}

function loadConfigFile(path: string): Partial<ConsumerConfig> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, Exit.USAGE);
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return (v.config !== undefined && typeof v.config === "object" ? v.config : v) as Partial<ConsumerConfig>;
  } catch (err) {
    throw new CliError(`${path}: invalid consumer configuration: ${(err as Error).message}`, Exit.USAGE);
  }
}

function applyDeliver(c: Record<string, unknown>, spec: string): void {
  const s = spec.toLowerCase();
  delete c.opt_start_seq;
  delete c.opt_start_time;
  if (s === "all" || s === "last" || s === "new" || s === "last-per-subject" || s === "last_per_subject") {
    c.deliver_policy = s.replace(/-/g, "_");
    return;
  }
  if (/^\d+$/.test(s)) {
    c.deliver_policy = "by_start_sequence";
    c.opt_start_seq = Number(s);
    return;
  }
  const t = Date.parse(spec);
  if (/^\d{4}-\d{2}-\d{2}/.test(spec) && !Number.isNaN(t)) {
    c.deliver_policy = "by_start_time";
    c.opt_start_time = new Date(t).toISOString();
    return;
  }
  let ms: number;
  try {
    ms = parseDuration(spec);
  } catch {
    throw usageError(
      `--deliver "${spec}": use all, last, new, last-per-subject, a sequence, a duration or a time`,
    );
  }
  c.deliver_policy = "by_start_time";
  c.opt_start_time = new Date(Date.now() - ms).toISOString();
}

export function applyConsumerFlags(cfg: Partial<ConsumerConfig>, f: Flags): Partial<ConsumerConfig> {
  const c = cfg as Record<string, unknown>;
  const set = (key: string, v: unknown) => {
    if (v !== undefined) c[key] = v;
  };
  if (f.target !== undefined && f.pull === true) throw usageError("--pull and --target cannot be combined");
  set("deliver_subject", f.target);
  set("deliver_group", f.deliverGroup);
  if (f.deliver !== undefined) applyDeliver(c, f.deliver as string);
  set("ack_policy", f.ack);
  set("replay_policy", f.replay);
  set("idle_heartbeat", f.heartbeat);
  set("flow_control", f.flowControl);
  set("rate_limit_bps", f.rateLimit);
  if (f.memory === true) c.mem_storage = true;
  set("description", f.description);
  const filters = f.filter as string[] | undefined;
  if (filters !== undefined) {
    delete c.filter_subject;
    delete c.filter_subjects;
    if (filters.length === 1) c.filter_subject = filters[0];
    else c.filter_subjects = filters;
  }
  set("ack_wait", f.wait);
  set("max_deliver", f.maxDeliver);
  set("max_ack_pending", f.maxPending);
  set("max_waiting", f.maxWaiting);
  set("max_batch", f.maxBatch);
  set("max_expires", f.maxExpires);
  set("max_bytes", f.maxPullBytes);
  set("inactive_threshold", f.inactiveThreshold);
  if (f.backoff !== undefined)
    c.backoff = (f.backoff as string[]).map((d) => Math.round(parseDuration(d) * 1e6));
  if (f.sample !== undefined) c.sample_freq = `${f.sample}%`;
  set("headers_only", f.headersOnly);
  set("num_replicas", f.replicas);
  const md = pairsToRecord(f.metadata as string[] | undefined);
  if (md !== undefined) c.metadata = { ...((c.metadata as Record<string, string>) ?? {}), ...md };
  return cfg;
}

function deliverText(c: ConsumerConfig): string {
  switch (c.deliver_policy) {
    case "by_start_sequence":
      return `from sequence ${c.opt_start_seq}`;
    case "by_start_time":
      return `from ${humanTime(c.opt_start_time, false)}`;
    case "last_per_subject":
      return "last per subject";
    default:
      return String(c.deliver_policy);
  }
}

function lastActive(v: unknown): string {
  return typeof v === "string" ? humanTime(v) : "never";
}

export function consumerInfoSections(ci: ConsumerInfo): Section[] {
  const c = ci.config;
  const push = c.deliver_subject !== undefined && c.deliver_subject !== "";
  const filters = c.filter_subjects?.length ? c.filter_subjects.join(", ") : c.filter_subject;
  return [
    {
      title: "Configuration",
      rows: [
        ["Name", ci.name],
        c.durable_name ? ["Durable Name", c.durable_name] : ["Ephemeral", "true"],
        c.description ? ["Description", c.description] : undefined,
        ["Type", push ? "Push" : "Pull"],
        push ? ["Delivery Subject", c.deliver_subject] : undefined,
        c.deliver_group ? ["Deliver Queue Group", c.deliver_group] : undefined,
        filters ? ["Filter Subject", filters] : undefined,
        ["Deliver Policy", deliverText(c)],
        ["Ack Policy", c.ack_policy],
        c.ack_wait ? ["Ack Wait", humanNanos(c.ack_wait)] : undefined,
        ["Replay Policy", c.replay_policy],
        ["Max Deliver", humanCount(c.max_deliver ?? -1, true)],
        c.max_ack_pending !== undefined
          ? ["Max Ack Pending", humanCount(c.max_ack_pending, true)]
          : undefined,
        !push && c.max_waiting !== undefined ? ["Max Waiting Pulls", humanCount(c.max_waiting)] : undefined,
        c.max_batch ? ["Max Pull Batch", humanCount(c.max_batch)] : undefined,
        c.max_expires ? ["Max Pull Expires", humanNanos(c.max_expires)] : undefined,
        c.max_bytes ? ["Max Pull Bytes", humanBytes(c.max_bytes)] : undefined,
        c.inactive_threshold ? ["Inactive Threshold", humanNanos(c.inactive_threshold)] : undefined,
        c.backoff?.length ? ["Backoff", c.backoff.map((b) => humanNanos(b)).join(", ")] : undefined,
        c.idle_heartbeat ? ["Idle Heartbeat", humanNanos(c.idle_heartbeat)] : undefined,
        c.flow_control ? ["Flow Control", "true"] : undefined,
        c.headers_only ? ["Headers Only", "true"] : undefined,
        c.sample_freq ? ["Sampling Rate", c.sample_freq] : undefined,
        c.rate_limit_bps ? ["Rate Limit", `${humanCount(c.rate_limit_bps)} bps`] : undefined,
        c.num_replicas ? ["Replicas", c.num_replicas] : undefined,
        c.mem_storage ? ["Memory Storage", "true"] : undefined,
        ...Object.entries(c.metadata ?? {})
          .filter(([k]) => !k.startsWith("_nats."))
          .map(([k, v]): [string, Cell] => [`Metadata ${k}`, v]),
      ],
    },
    {
      title: "State",
      rows: [
        [
          "Last Delivered Message",
          `Consumer sequence: ${humanCount(ci.delivered.consumer_seq)} Stream sequence: ${humanCount(ci.delivered.stream_seq)} Last delivery: ${lastActive(ci.delivered.last_active)}`,
        ],
        [
          "Acknowledgment Floor",
          `Consumer sequence: ${humanCount(ci.ack_floor.consumer_seq)} Stream sequence: ${humanCount(ci.ack_floor.stream_seq)}`,
        ],
        ["Outstanding Acks", humanCount(ci.num_ack_pending)],
        ["Redelivered Messages", humanCount(ci.num_redelivered)],
        ["Unprocessed Messages", humanCount(ci.num_pending)],
        !push
          ? ["Waiting Pulls", humanCount(ci.num_waiting)]
          : ["Active Interest", ci.push_bound ? "true" : "false"],
        ci.paused
          ? ["Paused Until", `${humanTime(c.pause_until)} (${humanNanos(ci.pause_remaining, "0s")} left)`]
          : undefined,
      ],
    },
  ];
}

function printConsumerInfo(ci: ConsumerInfo): void {
  out(color.bold(`Information for Consumer ${ci.stream_name} > ${ci.name} created ${humanTime(ci.created)}`));
  out();
  printSections(consumerInfoSections(ci));
}

/** "1h" from now, or an RFC 3339 time. */
function pauseUntil(spec: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(spec)) {
    const t = Date.parse(spec);
    if (!Number.isNaN(t)) return new Date(t);
  }
  try {
    return new Date(Date.now() + parseDuration(spec));
  } catch {
    throw usageError(`"${spec}" is neither a duration (1h) nor a time (2025-01-01T00:00:00Z)`);
  }
}

function pauseNeedsNewerServer(err: unknown, version: string | undefined): never {
  if (err instanceof TimeoutError || (err instanceof Error && /timeout/i.test(err.message))) {
    throw new CliError(
      `the server did not answer: pausing consumers needs nats-server 2.11 or later (this server says ${version ?? "unknown"})`,
      Exit.FAILED,
    );
  }
  throw err;
}

export function registerConsumer(program: Command): void {
  const consumer = program
    .command("consumer")
    .alias("con")
    .description("manage JetStream consumers: ls, add, info, edit, rm, next, pause, resume");
  examples(
    consumer,
    "lattice consumer ls ORDERS",
    "lattice consumer add ORDERS worker --filter 'orders.new'",
    "lattice consumer next ORDERS worker",
  );

  const ls = consumer
    .command("ls")
    .alias("list")
    .description("list a stream's consumers")
    .argument("<stream>", "stream name")
    .option("-n, --names", "print only the names")
    .option("--json", "print the consumer information as JSON")
    .action(
      action(async (stream: string, opts: { names?: boolean; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const infos: ConsumerInfo[] = [];
          for await (const ci of jsm.consumers.list(stream)) infos.push(ci);
          infos.sort((a, b) => a.name.localeCompare(b.name));
          if (opts.json) {
            printJson(opts.names ? infos.map((i) => i.name) : infos);
            return;
          }
          if (opts.names) {
            for (const i of infos) out(i.name);
            return;
          }
          if (infos.length === 0) {
            out(`No consumers defined on stream ${stream}`);
            return;
          }
          printTable(
            ["Name", "Type", "Description", "Created", "Ack Pending", "Unprocessed", "Last Delivery"],
            infos.map((i) => [
              i.name,
              i.config.deliver_subject ? "Push" : "Pull",
              i.config.description ?? "",
              ago(i.created),
              i.num_ack_pending,
              i.num_pending,
              typeof i.delivered.last_active === "string" ? ago(i.delivered.last_active) : "never",
            ]),
            `Consumers on stream ${stream} (${infos.length})`,
          );
        });
      }),
    );
  examples(ls, "lattice consumer ls ORDERS", "lattice consumer ls ORDERS --json");

  const add = addConsumerOptions(
    consumer
      .command("add")
      .alias("create")
      .description(
        "create a consumer from flags or a JSON configuration file (a durable pull consumer by default)",
      )
      .argument("<stream>", "stream name")
      .argument("[name]", "durable name (omit with --ephemeral)"),
    "add",
  ).action(
    action(async (stream: string, name: string | undefined, opts: Flags, cmd: Command) => {
      const base: Partial<ConsumerConfig> =
        opts.config !== undefined ? loadConfigFile(opts.config as string) : {};
      const cfg = applyConsumerFlags(base, opts) as Record<string, unknown>;
      cfg.ack_policy ??= "explicit";
      cfg.deliver_policy ??= "all";
      cfg.replay_policy ??= "instant";
      const durable = name ?? (cfg.durable_name as string | undefined) ?? (cfg.name as string | undefined);
      if (opts.ephemeral) {
        if (name !== undefined) cfg.name = name;
        delete cfg.durable_name;
      } else {
        if (durable === undefined) throw usageError("give the consumer a name, or use --ephemeral");
        cfg.durable_name = durable;
        cfg.name = durable;
      }
      await withSession(cmd, async (s) => {
        const ci = await (await s.jsm()).consumers.add(stream, cfg as Partial<ConsumerConfig>);
        if (opts.json) printJson(ci);
        else printConsumerInfo(ci);
      });
    }),
  );
  examples(
    add,
    "lattice consumer add ORDERS worker --filter 'orders.new' --ack explicit --max-deliver 5 --wait 30s",
    "lattice consumer add ORDERS audit --deliver 1h --replay original",
    "lattice consumer add ORDERS pusher --target deliver.orders --deliver new --heartbeat 5s --flow-control",
    "lattice consumer add ORDERS --config worker.json",
  );

  const info = consumer
    .command("info")
    .description("show a consumer's configuration and state")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--json", "print the consumer information as JSON")
    .action(
      action(async (stream: string, name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const ci = await (await s.jsm()).consumers.info(stream, name);
          if (opts.json) printJson(ci);
          else printConsumerInfo(ci);
        });
      }),
    );
  examples(info, "lattice consumer info ORDERS worker", "lattice consumer info ORDERS worker --json");

  const edit = addConsumerOptions(
    consumer
      .command("edit")
      .description("change a consumer's configuration (only the fields given change)")
      .argument("<stream>", "stream name")
      .argument("<consumer>", "consumer name"),
    "edit",
  ).action(
    action(async (stream: string, name: string, opts: Flags, cmd: Command) => {
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const current = (await jsm.consumers.info(stream, name)).config;
        let next: Partial<ConsumerConfig> = structuredClone(current);
        if (opts.config !== undefined) next = { ...next, ...loadConfigFile(opts.config as string) };
        next = applyConsumerFlags(next, opts);
        const ci = await jsm.consumers.update(stream, name, next);
        if (opts.json) printJson(ci);
        else printConsumerInfo(ci);
      });
    }),
  );
  examples(edit, "lattice consumer edit ORDERS worker --max-deliver 10 --description 'order worker'");

  const rm = consumer
    .command("rm")
    .alias("delete")
    .description("delete a consumer")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (stream: string, name: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete consumer ${stream} > ${name}?`, opts.force);
        await withSession(cmd, async (s) => {
          await (await s.jsm()).consumers.delete(stream, name);
          out(`Deleted consumer ${stream} > ${name}`);
        });
      }),
    );
  examples(rm, "lattice consumer rm ORDERS worker -f");

  const next = consumer
    .command("next")
    .description("pull the next message(s) from a pull consumer and acknowledge them")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--count <n>", "pull this many messages", parsePositive, 1)
    .option("--wait <duration>", "how long to wait for messages (default: --timeout)", parseDuration)
    .option("--no-ack", "do not acknowledge (they will be redelivered after the ack wait)")
    .option("--nak", "negatively acknowledge instead (redeliver now)")
    .option("--term", "terminate instead (never redeliver)")
    .option("--raw", "print only message bodies")
    .option("--json", "print one JSON object per message")
    .action(
      action(
        async (
          stream: string,
          name: string,
          opts: {
            count: number;
            wait?: number;
            ack: boolean;
            nak?: boolean;
            term?: boolean;
            raw?: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const ci = await (await s.jsm()).consumers.info(stream, name);
            if (ci.config.deliver_subject) {
              throw new CliError(
                `consumer ${stream} > ${name} is a push consumer: subscribe to its delivery subject instead (lattice sub ${ci.config.deliver_subject})`,
              );
            }
            const c = await (await s.js()).consumers.get(stream, name);
            const expires = Math.max(1000, Math.round(opts.wait ?? s.conn.timeoutMs));
            const iter = await c.fetch({ max_messages: opts.count, expires });
            let got = 0;
            for await (const m of iter) {
              got++;
              printJsMsg(m, opts);
              if (opts.term) m.term();
              else if (opts.nak) m.nak();
              else if (opts.ack && ci.config.ack_policy !== "none") {
                // Wait for the server to confirm, so the message is really done when the command exits.
                const confirmed = await m.ackAck().catch(() => false);
                if (!confirmed) note(`warning: the acknowledgement of message ${m.seq} was not confirmed`);
              }
            }
            await s.nc.flush();
            if (got === 0) throw new CliError(`no messages available from ${stream} > ${name}`, Exit.TIMEOUT);
            if (got < opts.count && !opts.json && !opts.raw)
              note(`received ${got} of ${opts.count} messages`);
          });
        },
      ),
    );
  examples(
    next,
    "lattice consumer next ORDERS worker",
    "lattice consumer next ORDERS worker --count 10 --raw",
    "lattice consumer next ORDERS worker --no-ack --wait 2s",
  );

  const pause = consumer
    .command("pause")
    .description(
      "pause delivery from a consumer until a time (or for a duration); needs nats-server 2.11+ or Lattice",
    )
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .argument("<until>", "a duration (1h) or a time (2025-01-01T00:00:00Z)")
    .option("--json", "print the pause result as JSON")
    .action(
      action(async (stream: string, name: string, until: string, opts: { json?: boolean }, cmd: Command) => {
        const when = pauseUntil(until);
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const r = await jsm.consumers
            .pause(stream, name, when)
            .catch((e) => pauseNeedsNewerServer(e, s.nc.info?.version));
          if (opts.json) {
            printJson(r);
            return;
          }
          if (!r.paused) throw new CliError(`consumer ${stream} > ${name} was not paused`);
          out(`Paused consumer ${stream} > ${name} until ${humanTime(r.pause_until ?? when.toISOString())}`);
        });
      }),
    );
  examples(
    pause,
    "lattice consumer pause ORDERS worker 30m",
    "lattice consumer pause ORDERS worker 2030-01-01T00:00:00Z",
  );

  const resume = consumer
    .command("resume")
    .alias("unpause")
    .description("resume a paused consumer")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--json", "print the result as JSON")
    .action(
      action(async (stream: string, name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const r = await (await s.jsm()).consumers
            .resume(stream, name)
            .catch((e) => pauseNeedsNewerServer(e, s.nc.info?.version));
          if (opts.json) printJson(r);
          else out(`Resumed consumer ${stream} > ${name}`);
        });
      }),
    );
  examples(resume, "lattice consumer resume ORDERS worker");
}

function printJsMsg(m: JsMsg, opts: { raw?: boolean; json?: boolean }): void {
  if (opts.json) {
    out(
      JSON.stringify({
        subject: m.subject,
        seq: m.seq,
        time: m.time.toISOString(),
        delivery: {
          stream_seq: m.info.streamSequence,
          consumer_seq: m.info.deliverySequence,
          delivered: m.info.deliveryCount,
          pending: m.info.pending,
        },
        headers: m.headers ? Object.fromEntries([...m.headers]) : undefined,
        data: Buffer.from(m.data).toString("utf8"),
      }),
    );
    return;
  }
  printMsg(
    {
      subject: m.subject,
      data: m.data,
      headers: m.headers,
      time: m.time,
      extra: [
        `consumer seq ${m.info.deliverySequence}`,
        `pending ${humanCount(m.info.pending)}`,
        ...(m.info.deliveryCount > 1 ? [`delivered ${m.info.deliveryCount} times`] : []),
      ],
    },
    { raw: opts.raw, label: String(m.seq) },
  );
}
