// How `lattice stream info` (and add, edit, purge) show a stream.

import type { StreamInfo } from "@nats-io/jetstream";
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

export function printStreamInfo(si: StreamInfo, heading: string): void {
  out(color.bold(`${heading} ${si.config.name} created ${humanTime(si.created)}`));
  out();
  printSections(streamInfoSections(si));
}
