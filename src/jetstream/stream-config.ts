// StreamConfig as it travels on the wire: the TypeScript shape, decoding a request body the way Go's
// json.Unmarshal would (wrong types and unknown enum values are invalid JSON, unknown fields are ignored),
// and the JSON a response carries (fields in nats-server's order, omitted where Go's omitempty omits them).
// Defaults and validation live in config-check.ts.

import {
  optArray,
  optBool,
  optEnum,
  optInt,
  optObject,
  optString,
  optStringArray,
  optStringMap,
  optTime,
  rfc3339,
} from "./json.js";

export type Retention = "limits" | "interest" | "workqueue";
export type Discard = "old" | "new";
export type Storage = "file" | "memory";
export type Compression = "none" | "s2";

export interface TransformConfig {
  src: string;
  dest: string;
}

export interface ExternalStream {
  api: string;
  deliver?: string;
}

export interface StreamSourceConfig {
  name: string;
  opt_start_seq?: number;
  /** RFC 3339, normalized. */
  opt_start_time?: string;
  filter_subject?: string;
  subject_transforms?: TransformConfig[];
  external?: ExternalStream;
}

export interface RePublishConfig {
  src?: string;
  dest: string;
  headers_only?: boolean;
}

export interface PlacementConfig {
  cluster?: string;
  tags?: string[];
  preferred?: string;
}

export interface ConsumerLimitsConfig {
  inactive_threshold?: number;
  max_ack_pending?: number;
}

export interface StreamConfig {
  name: string;
  description?: string;
  subjects?: string[];
  retention: Retention;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  /** Nanoseconds. */
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: Discard;
  storage: Storage;
  num_replicas: number;
  no_ack?: boolean;
  /** Nanoseconds. */
  duplicate_window?: number;
  placement?: PlacementConfig;
  mirror?: StreamSourceConfig;
  sources?: StreamSourceConfig[];
  compression: Compression;
  first_seq?: number;
  subject_transform?: TransformConfig;
  republish?: RePublishConfig;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject?: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: ConsumerLimitsConfig;
  allow_msg_ttl: boolean;
  /** Nanoseconds. */
  subject_delete_marker_ttl?: number;
  metadata?: Record<string, string>;
}

/** What a request body says, before defaults: every field optional. */
export type StreamConfigRequest = Partial<StreamConfig>;

type Obj = Record<string, unknown>;

function decodeTransform(o: Obj): TransformConfig {
  return { src: optString(o, "src") ?? "", dest: optString(o, "dest") ?? "" };
}

/** An array element that must be an object (null counts as an empty one, as in Go). */
function element(v: unknown): Obj {
  return optObject({ v }, "v") ?? {};
}

function decodeTransformList(o: Obj, key: string): TransformConfig[] | undefined {
  return optArray(o, key)?.map((v) => decodeTransform(element(v)));
}

export function decodeSource(o: Obj): StreamSourceConfig {
  const s: StreamSourceConfig = { name: optString(o, "name") ?? "" };
  const seq = optInt(o, "opt_start_seq", true);
  if (seq) s.opt_start_seq = seq;
  const t = optTime(o, "opt_start_time");
  if (t !== undefined && t !== 0n && t !== ZERO_TIME_NS) s.opt_start_time = rfc3339(t);
  const f = optString(o, "filter_subject");
  if (f) s.filter_subject = f;
  const tr = decodeTransformList(o, "subject_transforms");
  if (tr && tr.length > 0) s.subject_transforms = tr;
  const ext = optObject(o, "external");
  if (ext !== undefined) {
    const api = optString(ext, "api") ?? "";
    const deliver = optString(ext, "deliver");
    s.external = deliver ? { api, deliver } : { api };
  }
  return s;
}

/** Go's zero time, which clients may send for "unset". */
const ZERO_TIME_NS = -62135596800000000000n;

/** Decode a StreamConfig request body; throws InvalidJSON on type errors. Absent fields stay absent. */
export function decodeStreamConfig(o: Obj): StreamConfigRequest {
  const c: StreamConfigRequest = {};
  const set = <K extends keyof StreamConfig>(k: K, v: StreamConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set("name", optString(o, "name"));
  set("description", optString(o, "description"));
  set("subjects", optStringArray(o, "subjects"));
  set("retention", optEnum(o, "retention", ["limits", "interest", "workqueue"] as const));
  set("max_consumers", optInt(o, "max_consumers"));
  set("max_msgs", optInt(o, "max_msgs"));
  set("max_bytes", optInt(o, "max_bytes"));
  set("max_age", optInt(o, "max_age"));
  set("max_msgs_per_subject", optInt(o, "max_msgs_per_subject"));
  set("max_msg_size", optInt(o, "max_msg_size"));
  set("discard", optEnum(o, "discard", ["old", "new"] as const));
  set("storage", optEnum(o, "storage", ["file", "memory"] as const));
  set("num_replicas", optInt(o, "num_replicas"));
  set("no_ack", optBool(o, "no_ack"));
  set("duplicate_window", optInt(o, "duplicate_window"));
  const p = optObject(o, "placement");
  if (p !== undefined) {
    const pl: PlacementConfig = {};
    const cluster = optString(p, "cluster");
    if (cluster) pl.cluster = cluster;
    const tags = optStringArray(p, "tags");
    if (tags && tags.length > 0) pl.tags = tags;
    const preferred = optString(p, "preferred");
    if (preferred) pl.preferred = preferred;
    c.placement = pl;
  }
  const m = optObject(o, "mirror");
  if (m !== undefined) c.mirror = decodeSource(m);
  const sources = optArray(o, "sources");
  if (sources !== undefined) c.sources = sources.map((s) => decodeSource(element(s)));
  set("compression", optEnum(o, "compression", ["none", "s2", ""] as const) as Compression | undefined);
  if ((c.compression as string) === "") c.compression = "none";
  set("first_seq", optInt(o, "first_seq", true));
  const st = optObject(o, "subject_transform");
  if (st !== undefined) c.subject_transform = decodeTransform(st);
  const rp = optObject(o, "republish");
  if (rp !== undefined) {
    const r: RePublishConfig = { src: optString(rp, "src") ?? "", dest: optString(rp, "dest") ?? "" };
    if (optBool(rp, "headers_only")) r.headers_only = true;
    c.republish = r;
  }
  set("allow_direct", optBool(o, "allow_direct"));
  set("mirror_direct", optBool(o, "mirror_direct"));
  set("discard_new_per_subject", optBool(o, "discard_new_per_subject"));
  set("sealed", optBool(o, "sealed"));
  set("deny_delete", optBool(o, "deny_delete"));
  set("deny_purge", optBool(o, "deny_purge"));
  set("allow_rollup_hdrs", optBool(o, "allow_rollup_hdrs"));
  const cl = optObject(o, "consumer_limits");
  if (cl !== undefined) {
    const l: ConsumerLimitsConfig = {};
    const it = optInt(cl, "inactive_threshold");
    if (it) l.inactive_threshold = it;
    const map = optInt(cl, "max_ack_pending");
    if (map) l.max_ack_pending = map;
    c.consumer_limits = l;
  }
  set("allow_msg_ttl", optBool(o, "allow_msg_ttl"));
  set("subject_delete_marker_ttl", optInt(o, "subject_delete_marker_ttl"));
  set("metadata", optStringMap(o, "metadata"));
  return c;
}

function sourceJson(s: StreamSourceConfig): Obj {
  const o: Obj = { name: s.name };
  if (s.opt_start_seq) o.opt_start_seq = s.opt_start_seq;
  if (s.opt_start_time) o.opt_start_time = s.opt_start_time;
  if (s.filter_subject) o.filter_subject = s.filter_subject;
  if (s.subject_transforms?.length) o.subject_transforms = s.subject_transforms.map((t) => ({ ...t }));
  if (s.external) o.external = { ...s.external };
  return o;
}

/** The config as responses show it: nats-server's field order and omissions. */
export function configJson(c: StreamConfig): Obj {
  const o: Obj = { name: c.name };
  if (c.description) o.description = c.description;
  if (c.subjects?.length) o.subjects = [...c.subjects];
  o.retention = c.retention;
  o.max_consumers = c.max_consumers;
  o.max_msgs = c.max_msgs;
  o.max_bytes = c.max_bytes;
  o.max_age = c.max_age;
  o.max_msgs_per_subject = c.max_msgs_per_subject;
  o.max_msg_size = c.max_msg_size;
  o.discard = c.discard;
  o.storage = c.storage;
  o.num_replicas = c.num_replicas;
  if (c.no_ack) o.no_ack = true;
  if (c.duplicate_window) o.duplicate_window = c.duplicate_window;
  if (c.placement) o.placement = { ...c.placement };
  if (c.mirror) o.mirror = sourceJson(c.mirror);
  if (c.sources?.length) o.sources = c.sources.map(sourceJson);
  o.compression = c.compression;
  if (c.first_seq) o.first_seq = c.first_seq;
  if (c.subject_transform) o.subject_transform = { ...c.subject_transform };
  if (c.republish) {
    o.republish = { src: c.republish.src, dest: c.republish.dest };
    if (c.republish.headers_only) (o.republish as Obj).headers_only = true;
  }
  o.allow_direct = c.allow_direct;
  o.mirror_direct = c.mirror_direct;
  if (c.discard_new_per_subject) o.discard_new_per_subject = true;
  o.sealed = c.sealed;
  o.deny_delete = c.deny_delete;
  o.deny_purge = c.deny_purge;
  o.allow_rollup_hdrs = c.allow_rollup_hdrs;
  o.consumer_limits = { ...c.consumer_limits };
  o.allow_msg_ttl = c.allow_msg_ttl;
  if (c.subject_delete_marker_ttl) o.subject_delete_marker_ttl = c.subject_delete_marker_ttl;
  if (c.metadata && Object.keys(c.metadata).length > 0) o.metadata = { ...c.metadata };
  return o;
}

/** Stable text of a config for equality checks (create is idempotent only for an identical config). */
export function configKey(c: StreamConfig): string {
  return JSON.stringify(sortKeys(configJson(c)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Obj = {};
    for (const k of Object.keys(v as Obj).sort()) out[k] = sortKeys((v as Obj)[k]);
    return out;
  }
  return v;
}

export function cloneConfig(c: StreamConfig): StreamConfig {
  return structuredClone(c);
}
