// The consumer configuration flags of `lattice consumer add|edit`, applied onto a configuration, and how
// `consumer info` shows a consumer.

import type { ConsumerConfig, ConsumerInfo } from "@nats-io/jetstream";
import { type Command, Option } from "commander";
import {
  addConfigFileOption,
  addMetadataAndJsonOptions,
  applyMetadata,
  type Flags,
  setter,
} from "../config-flags.js";
import { usageError } from "../errors.js";
import {
  type Cell,
  color,
  humanBytes,
  humanCount,
  humanNanos,
  humanTime,
  out,
  printSections,
  type Section,
} from "../output.js";
import {
  collectList,
  durationNanos,
  parseDuration,
  parseInteger,
  parsePositive,
  parseSince,
  parseSize,
} from "../parse.js";

export function addConsumerOptions(cmd: Command, mode: "add" | "edit"): Command {
  const add = mode === "add";
  addConfigFileOption(cmd, "consumer");
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
  cmd
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
    .option("--replicas <n>", "replicas of the consumer state", parsePositive);
  return addMetadataAndJsonOptions(cmd, "consumer");
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
  let since: Date;
  try {
    since = parseSince(spec);
  } catch {
    throw usageError(
      `--deliver "${spec}": use all, last, new, last-per-subject, a sequence, a duration or a time`,
    );
  }
  c.deliver_policy = "by_start_time";
  c.opt_start_time = since.toISOString();
}

export function applyConsumerFlags(cfg: Partial<ConsumerConfig>, f: Flags): Partial<ConsumerConfig> {
  const c = cfg as Record<string, unknown>;
  const set = setter(c);
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
  applyMetadata(c, f.metadata);
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

export function printConsumerInfo(ci: ConsumerInfo): void {
  out(color.bold(`Information for Consumer ${ci.stream_name} > ${ci.name} created ${humanTime(ci.created)}`));
  out();
  printSections(consumerInfoSections(ci));
}
