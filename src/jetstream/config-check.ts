// Stream config defaults and validation for one stream on its own (account-wide checks — subject overlap
// between streams, limits, source cycles — are the account's). Error texts follow nats-server.

import { isSubsetMatch, subjectsCollide } from "../subjects/pattern.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";
import { apiError, apiErrorText } from "./api-errors.js";
import type { StreamConfig, StreamConfigRequest, StreamSourceConfig } from "./stream-config.js";
import { transformError } from "./subject-transform.js";

const MS = 1_000_000;
const MAX_NAME = 255;
const MAX_DESCRIPTION = 4096;
const MAX_METADATA = 128 * 1024;
const MAX_REPLICAS = 5;
const DEFAULT_DUPLICATE_WINDOW = 120_000 * MS;
const MIN_DURATION = 100 * MS;
const JS_API = "$JS.API.>";

const invalid = (text: string) => apiErrorText("StreamInvalidConfig", text);

/** Name rules shared by the API handlers: path separators are their own error. */
export function checkStreamName(name: string): void {
  if (name.includes("/") || name.includes("\\")) throw apiError("StreamNameContainsPathSeparators");
  if (name.length > MAX_NAME) throw invalid(`stream name is too long, maximum allowed is ${MAX_NAME}`);
  if (name === "" || /[.*>\s\x00-\x1f\x7f]/.test(name)) {
    throw invalid("stream name is required and can not contain '.', '*', '>'");
  }
}

function checkSource(s: StreamSourceConfig, own: string, what: "mirror" | "source"): void {
  if (s.name === "") throw invalid(`stream ${what} name is required`);
  if (/[.*>\s/\\]/.test(s.name)) throw invalid(`stream ${what} name "${s.name}" is invalid`);
  if (s.name === own && s.external === undefined) throw invalid("detected cycle");
  if (s.filter_subject !== undefined && !isValidSubscribeSubject(s.filter_subject)) {
    throw invalid(`${what} '${s.name}' filter subject '${s.filter_subject}' is not a valid subject`);
  }
  if (s.filter_subject && s.subject_transforms?.length) {
    throw invalid(`${what} with subject transforms cannot also have a single subject filter`);
  }
  for (const t of s.subject_transforms ?? []) {
    const err = transformError(t.src, t.dest === "" ? (t.src === "" ? ">" : t.src) : t.dest);
    if (err !== undefined) throw invalid(`${what} '${s.name}' subject transform is not valid: ${err}`);
  }
  const srcs = (s.subject_transforms ?? []).map((t) => t.src || ">");
  for (let i = 0; i < srcs.length; i++) {
    for (let j = i + 1; j < srcs.length; j++) {
      if (subjectsCollide(srcs[i], srcs[j])) throw invalid(`${what} '${s.name}' subject filters overlap`);
    }
  }
}

/** A stable identity for a source within a stream (name + filter + transforms). */
export function sourceKey(s: StreamSourceConfig): string {
  const parts = [s.name, s.filter_subject ?? ""];
  for (const t of s.subject_transforms ?? []) parts.push(`${t.src}>${t.dest}`);
  if (s.external) parts.push(s.external.api);
  return parts.join(" ");
}

/**
 * Apply defaults and validate a create/update request. Throws an ApiError describing the first problem.
 * The replica limit of a single server is the caller's (it differs between create and update wording).
 */
export function normalizeConfig(req: StreamConfigRequest, pedantic = false): StreamConfig {
  const name = req.name ?? "";
  checkStreamName(name);
  if ((req.description ?? "").length > MAX_DESCRIPTION) {
    throw invalid(`stream description is too long, maximum allowed is ${MAX_DESCRIPTION}`);
  }
  if (req.metadata) {
    let size = 0;
    for (const [k, v] of Object.entries(req.metadata)) size += k.length + v.length;
    if (size > MAX_METADATA) throw invalid(`stream metadata exceeds maximum size of ${MAX_METADATA} bytes`);
  }
  const replicas = req.num_replicas ?? 0;
  if (replicas < 0) throw apiError("ReplicasCountCannotBeNegative");
  if (replicas > MAX_REPLICAS) throw invalid(`maximum replicas is ${MAX_REPLICAS}`);

  const neg1 = (v: number | undefined) => (v === undefined || v === 0 ? -1 : v);
  const c: StreamConfig = {
    name,
    retention: req.retention ?? "limits",
    max_consumers: neg1(req.max_consumers),
    max_msgs: neg1(req.max_msgs),
    max_bytes: neg1(req.max_bytes),
    max_age: req.max_age ?? 0,
    max_msgs_per_subject: neg1(req.max_msgs_per_subject),
    max_msg_size: neg1(req.max_msg_size),
    discard: req.discard ?? "old",
    storage: req.storage ?? "file",
    num_replicas: replicas === 0 ? 1 : replicas,
    compression: req.compression ?? "none",
    allow_direct: req.allow_direct ?? false,
    mirror_direct: req.mirror_direct ?? false,
    sealed: req.sealed ?? false,
    deny_delete: req.deny_delete ?? false,
    deny_purge: req.deny_purge ?? false,
    allow_rollup_hdrs: req.allow_rollup_hdrs ?? false,
    consumer_limits: { ...(req.consumer_limits ?? {}) },
    allow_msg_ttl: req.allow_msg_ttl ?? false,
  };
  if (req.description) c.description = req.description;
  if (req.no_ack) c.no_ack = true;
  if (req.placement) c.placement = { ...req.placement };
  if (req.first_seq) c.first_seq = req.first_seq;
  if (req.discard_new_per_subject) c.discard_new_per_subject = true;
  if (req.metadata && Object.keys(req.metadata).length > 0) c.metadata = { ...req.metadata };
  if (req.max_age !== undefined && req.max_age < 0) throw invalid("max age needs to be >= 100ms");
  if (c.max_age !== 0 && c.max_age < MIN_DURATION) throw invalid("max age needs to be >= 100ms");
  if (c.max_msg_size > 2 ** 31 - 1) throw invalid("max message size can not be larger than 2GB");

  const mirror = req.mirror;
  const sources = req.sources ?? [];
  if (mirror) {
    if ((req.subjects ?? []).length > 0) throw apiError("MirrorWithSubjects");
    if (sources.length > 0) throw apiError("MirrorWithSources");
    if (req.first_seq) throw invalid("stream mirrors can not have first sequence configured");
    if (req.subject_transform) throw invalid("stream mirrors can not contain a subject transform");
    if (req.subject_delete_marker_ttl) throw invalid("subject delete markers forbidden on mirrors");
    checkSource(mirror, name, "mirror");
    c.mirror = structuredClone(mirror);
  }
  if (sources.length > 0) {
    const seen = new Set<string>();
    for (const s of sources) {
      checkSource(s, name, "source");
      const k = sourceKey(s);
      if (seen.has(k)) throw invalid("duplicate source configuration detected");
      seen.add(k);
    }
    c.sources = structuredClone(sources);
  }

  // Duplicate window: default 2 min (or max age if smaller); mirrors don't dedupe unless asked.
  const dw = req.duplicate_window ?? 0;
  if (dw < 0) throw invalid("duplicates window needs to be >= 100ms");
  if (dw > 0) {
    if (dw < MIN_DURATION) throw invalid("duplicates window needs to be >= 100ms");
    if (c.max_age > 0 && dw > c.max_age) throw invalid("duplicates window can not be larger then max age");
    c.duplicate_window = dw;
  } else if (!mirror) {
    c.duplicate_window =
      c.max_age > 0 && c.max_age < DEFAULT_DUPLICATE_WINDOW ? c.max_age : DEFAULT_DUPLICATE_WINDOW;
  }

  if (c.discard_new_per_subject) {
    if (c.discard !== "new") throw invalid("discard new per subject requires discard new policy to be set");
    if (c.max_msgs_per_subject <= 0)
      throw invalid("discard new per subject requires max msgs per subject > 0");
  }

  // Subjects: default to the name for a plain stream; valid, unique, not overlapping each other or the API.
  let subjects = req.subjects ?? [];
  if (subjects.length === 0 && !mirror && sources.length === 0) subjects = [name];
  const seen = new Set<string>();
  for (const s of subjects) {
    if (!isValidSubscribeSubject(s)) throw invalid("invalid subject");
    if (seen.has(s)) throw invalid("duplicate subjects detected");
    seen.add(s);
    if (isSubsetMatch(s, JS_API)) throw invalid("subjects overlap with jetstream api");
    if (subjectsCollide(s, JS_API) && !c.no_ack) {
      throw invalid("subjects that overlap with jetstream api require no-ack to be true");
    }
  }
  for (let i = 0; i < subjects.length; i++) {
    for (let j = i + 1; j < subjects.length; j++) {
      if (subjectsCollide(subjects[i], subjects[j])) {
        throw invalid(`subject "${subjects[i]}" overlaps with "${subjects[j]}"`);
      }
    }
  }
  if (subjects.length > 0) c.subjects = [...subjects];

  if (req.subject_transform) {
    const t = req.subject_transform;
    const err = transformError(t.src, t.dest);
    if (err !== undefined) throw invalid(`stream subject transform is not valid: ${err}`);
    c.subject_transform = { ...t, src: t.src || ">" };
  }

  if (req.republish) {
    const rp = { ...req.republish, src: req.republish.src || ">" };
    if (rp.dest === "" || transformError(rp.src, rp.dest) !== undefined) {
      throw invalid("stream configuration for republish not valid");
    }
    const inStream =
      subjects.length === 0 || subjects.some((s) => isSubsetMatch(rp.src, s) || rp.src === ">");
    if (!inStream) throw invalid("stream configuration for republish source is not valid subset of subjects");
    if (subjects.some((s) => subjectsCollide(s, rp.dest))) {
      throw invalid("stream configuration for republish destination forms a cycle");
    }
    c.republish = rp;
  }

  if (c.deny_purge && c.allow_rollup_hdrs) throw invalid("roll-ups require the purge permission");

  const sdm = req.subject_delete_marker_ttl ?? 0;
  if (sdm < 0) throw invalid("subject delete marker TTL must not be negative");
  if (sdm > 0) {
    if (sdm < 1000 * MS) throw invalid("subject delete marker TTL must be at least 1 second");
    c.subject_delete_marker_ttl = sdm;
    // Markers are TTL'd rollups: the stream needs both features (pedantic requests must ask for them).
    if (pedantic && !req.allow_msg_ttl) {
      throw apiErrorText("Pedantic", "subject delete markers require message TTLs to be enabled");
    }
    if (pedantic && !req.allow_rollup_hdrs) {
      throw apiErrorText("Pedantic", "subject delete markers require rollups to be enabled");
    }
    c.allow_msg_ttl = true;
    c.allow_rollup_hdrs = true;
    if (c.deny_purge) throw invalid("roll-ups require the purge permission");
  }
  return c;
}

/** Extra rules for create. */
export function checkCreate(c: StreamConfig): void {
  if (c.sealed) throw invalid("stream configuration for create can not be sealed");
}

/** Rules for changing `old` into `next`; applies sealing side effects to `next`. */
export function checkUpdate(old: StreamConfig, next: StreamConfig): void {
  if (JSON.stringify(old.mirror ?? null) !== JSON.stringify(next.mirror ?? null)) {
    throw apiError("StreamMirrorNotUpdatable");
  }
  if (old.storage !== next.storage) throw invalid("stream configuration update can not change storage type");
  if (old.retention !== next.retention && (old.retention === "workqueue" || next.retention === "workqueue")) {
    throw invalid("stream configuration update can not change retention policy to/from workqueue");
  }
  if (old.sealed && !next.sealed) throw invalid("stream configuration update can not unseal a sealed stream");
  if (old.deny_delete && !next.deny_delete) {
    throw invalid("stream configuration update can not cancel deny message deletes");
  }
  if (old.deny_purge && !next.deny_purge)
    throw invalid("stream configuration update can not cancel deny purge");
  if (old.allow_msg_ttl && !next.allow_msg_ttl) throw invalid("message TTL status can not be disabled");
  if (next.sealed) {
    next.deny_delete = true;
    next.deny_purge = true;
    next.allow_rollup_hdrs = false;
    next.discard = "new";
  }
  // first_seq only matters when the store is created.
  if (old.first_seq) next.first_seq = old.first_seq;
  else delete next.first_seq;
}
