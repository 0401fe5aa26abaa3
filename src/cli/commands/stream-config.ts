// The stream configuration flags of `lattice stream add|edit`, and applying them onto a configuration.

import type { StreamConfig } from "@nats-io/jetstream";
import { type Command, Option } from "commander";
import {
  addConfigFileOption,
  addMetadataAndJsonOptions,
  applyMetadata,
  type Flags,
  setter,
} from "../config-flags.js";
import { usageError } from "../errors.js";
import { collect, collectList, durationNanos, parseInteger, parsePositive, parseSize } from "../parse.js";

/** Flags for every stream configuration field; `edit` only gets the ones a stream can change. */
export function addConfigOptions(cmd: Command, mode: "add" | "edit"): Command {
  const add = mode === "add";
  addConfigFileOption(cmd, "stream")
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
  return addMetadataAndJsonOptions(cmd, "stream");
}

/** Apply the flags given on the command line onto a configuration. */
export function applyStreamFlags(cfg: Partial<StreamConfig>, f: Flags): Partial<StreamConfig> {
  const c = cfg as Record<string, unknown>;
  const set = setter(c);
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
  applyMetadata(c, f.metadata);
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
