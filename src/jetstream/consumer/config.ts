// Consumer configuration: decoding a create request the way Go's json.Unmarshal would (wrong types fail as
// invalid JSON), the defaults nats-server fills in, the validation rules with their error texts, the JSON
// form (field order and omissions of nats-server) and which changes an update may make.

import { isSubsetMatch } from "../../subjects/pattern.js";
import { isLiteralSubject, isValidSubscribeSubject } from "../../subjects/validate.js";
import { apiError, apiErrorText } from "../api-errors.js";
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
} from "../json.js";
import type { StreamConfig } from "../stream-config.js";

export const NS_PER_MS = 1_000_000;
export const DEFAULT_ACK_WAIT_NS = 30_000 * NS_PER_MS;
export const DEFAULT_MAX_ACK_PENDING = 1000;
export const DEFAULT_MAX_WAITING = 512;
/** Ephemeral consumers go away after this long without interest (when the config sets nothing). */
export const DEFAULT_INACTIVE_THRESHOLD_NS = 5_000 * NS_PER_MS;
const MAX_NAME = 255;
const MAX_DESCRIPTION = 4096;
const MAX_METADATA = 128 * 1024;

export const DELIVER_POLICIES = [
  "all",
  "last",
  "new",
  "by_start_sequence",
  "by_start_time",
  "last_per_subject",
] as const;
export type DeliverPolicy = (typeof DELIVER_POLICIES)[number];
export const ACK_POLICIES = ["none", "all", "explicit"] as const;
export type AckPolicy = (typeof ACK_POLICIES)[number];
export const REPLAY_POLICIES = ["instant", "original"] as const;
export type ReplayPolicy = (typeof REPLAY_POLICIES)[number];
export type ConsumerAction = "" | "create" | "update";
/** How pull requests of a priority group share the messages (ADR-42); "none" = no priority groups. */
export const PRIORITY_POLICIES = ["none", "overflow", "pinned_client", "prioritized"] as const;
export type PriorityPolicy = (typeof PRIORITY_POLICIES)[number];
/** How long a pinned client may go without a pull request before another is pinned. */
export const DEFAULT_PRIORITY_TIMEOUT_NS = 120_000 * NS_PER_MS;
/** Priority group names: ADR-6's limited term, at most 16 characters. */
const GROUP_NAME = /^[a-zA-Z0-9/_=-]{1,16}$/;

export function isValidGroupName(name: string): boolean {
  return GROUP_NAME.test(name);
}

/** A consumer's configuration; durations are nanoseconds, times nanoseconds since the epoch. */
export interface ConsumerConfig {
  durable_name?: string;
  name?: string;
  description?: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: bigint;
  ack_policy: AckPolicy;
  ack_wait?: number;
  max_deliver?: number;
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps?: number;
  sample_freq?: string;
  max_waiting?: number;
  max_ack_pending?: number;
  idle_heartbeat?: number;
  flow_control?: boolean;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: number;
  max_bytes?: number;
  deliver_subject?: string;
  deliver_group?: string;
  inactive_threshold?: number;
  num_replicas: number;
  mem_storage?: boolean;
  direct?: boolean;
  metadata?: Record<string, string>;
  pause_until?: bigint;
  priority_groups?: string[];
  priority_policy?: PriorityPolicy;
  /** Pinned-client policy: ns without a pull from the pinned client before the pin moves on. */
  priority_timeout?: number;
  /** Lattice extension: where messages go once they exhausted max_deliver or were terminated. */
  dead_letter_subject?: string;
}

type Obj = Record<string, unknown>;

function bad(): never {
  throw apiError("InvalidJSON");
}

/** Deliver policy as Go decodes it ("undefined" means all). */
function deliverPolicy(o: Obj): DeliverPolicy {
  const v = optString(o, "deliver_policy");
  if (v === undefined || v === "undefined") return "all";
  return (DELIVER_POLICIES as readonly string[]).includes(v) ? (v as DeliverPolicy) : bad();
}

function durations(o: Obj, key: string): number[] | undefined {
  const a = optArray(o, key);
  if (a === undefined) return undefined;
  return a.map((v) => (typeof v === "number" && Number.isInteger(v) ? v : bad()));
}

/** Decode `config` of a create request (throws InvalidJSON on a type mismatch). */
export function decodeConsumerConfig(o: Obj): ConsumerConfig {
  const c: ConsumerConfig = {
    deliver_policy: deliverPolicy(o),
    ack_policy: optEnum(o, "ack_policy", ACK_POLICIES) ?? "none",
    replay_policy: optEnum(o, "replay_policy", REPLAY_POLICIES) ?? "instant",
    num_replicas: optInt(o, "num_replicas") ?? 0,
  };
  const str = (k: keyof ConsumerConfig) => {
    const v = optString(o, k);
    if (v !== undefined && v !== "") (c as unknown as Obj)[k] = v;
  };
  const int = (k: keyof ConsumerConfig, sequence = false) => {
    const v = optInt(o, k, sequence);
    if (v !== undefined && v !== 0) (c as unknown as Obj)[k] = v;
  };
  const bool = (k: keyof ConsumerConfig) => {
    if (optBool(o, k) === true) (c as unknown as Obj)[k] = true;
  };
  str("durable_name");
  str("name");
  str("description");
  int("opt_start_seq", true);
  const st = optTime(o, "opt_start_time");
  if (st !== undefined) c.opt_start_time = st;
  int("ack_wait");
  int("max_deliver");
  const bo = durations(o, "backoff");
  if (bo !== undefined && bo.length > 0) c.backoff = bo;
  str("filter_subject");
  const fs = optStringArray(o, "filter_subjects");
  if (fs !== undefined && fs.length > 0) c.filter_subjects = fs;
  int("rate_limit_bps", true);
  str("sample_freq");
  int("max_waiting");
  int("max_ack_pending");
  int("idle_heartbeat");
  bool("flow_control");
  bool("headers_only");
  int("max_batch");
  int("max_expires");
  int("max_bytes");
  str("deliver_subject");
  str("deliver_group");
  int("inactive_threshold");
  bool("mem_storage");
  bool("direct");
  const md = optStringMap(o, "metadata");
  if (md !== undefined && Object.keys(md).length > 0) c.metadata = md;
  const pu = optTime(o, "pause_until");
  if (pu !== undefined && pu > 0n) c.pause_until = pu;
  const pg = optStringArray(o, "priority_groups");
  if (pg !== undefined && pg.length > 0) c.priority_groups = pg;
  const pp = optEnum(o, "priority_policy", PRIORITY_POLICIES);
  if (pp !== undefined && pp !== "none") c.priority_policy = pp;
  int("priority_timeout");
  str("dead_letter_subject");
  return c;
}

export interface CreateRequest {
  stream_name: string;
  config: ConsumerConfig;
  action: ConsumerAction;
  /** The config object as sent (for the pedantic flag and diagnostics). */
  pedantic: boolean;
}

export function decodeCreateRequest(o: Obj): CreateRequest {
  const stream = optString(o, "stream_name") ?? "";
  const cfg = optObject(o, "config") ?? {};
  const action = optString(o, "action") ?? "";
  if (action !== "" && action !== "create" && action !== "update") bad();
  return {
    stream_name: stream,
    config: decodeConsumerConfig(cfg),
    action: action as ConsumerAction,
    pedantic: optBool(o, "pedantic") ?? false,
  };
}

export function isDurable(c: ConsumerConfig): boolean {
  return c.durable_name !== undefined && c.durable_name !== "";
}

export function isPush(c: ConsumerConfig): boolean {
  return c.deliver_subject !== undefined && c.deliver_subject !== "";
}

/** The subject filters of a config (empty = everything). */
export function filtersOf(c: ConsumerConfig): string[] {
  if (c.filter_subjects !== undefined && c.filter_subjects.length > 0) return [...c.filter_subjects];
  if (c.filter_subject !== undefined && c.filter_subject !== "") return [c.filter_subject];
  return [];
}

/** Account/stream limits that shape consumer defaults. */
export interface ConsumerLimits {
  /** Account max ack pending, -1/0 = none. */
  accountMaxAckPending: number;
}

/**
 * Fill in what nats-server fills in before validating, in its order. With `pedantic` the request must
 * say what it means: a value that would be adjusted or defaulted from a limit is an error instead (10157).
 */
export function applyDefaults(
  c: ConsumerConfig,
  stream: StreamConfig,
  lim: ConsumerLimits,
  pedantic = false,
): void {
  const refuse = (err: string): never => {
    throw apiErrorText("Pedantic", err);
  };
  const md = c.max_deliver ?? 0;
  if (md === 0 || md < -1) {
    if (pedantic && md < -1) refuse("max_deliver must be set to -1");
    c.max_deliver = -1;
  }
  type Unsigned = "max_waiting" | "max_batch" | "max_expires" | "max_bytes" | "idle_heartbeat";
  const notNegative = (k: Unsigned | "inactive_threshold" | "priority_timeout") => {
    if ((c[k] ?? 0) < 0) {
      if (pedantic) refuse(`${k} must not be negative`);
      delete c[k];
    }
  };
  notNegative("max_waiting");
  if ((c.max_ack_pending ?? 0) < -1) {
    if (pedantic) refuse("max_ack_pending must be set to -1");
    c.max_ack_pending = -1;
  }
  notNegative("max_batch");
  notNegative("max_expires");
  notNegative("max_bytes");
  notNegative("idle_heartbeat");
  notNegative("inactive_threshold");
  notNegative("priority_timeout");
  if (!isPush(c) && (c.max_waiting ?? 0) === 0) c.max_waiting = DEFAULT_MAX_WAITING;
  if ((c.ack_wait ?? 0) === 0 && (c.ack_policy === "explicit" || c.ack_policy === "all")) {
    c.ack_wait = DEFAULT_ACK_WAIT_NS;
  }
  if (c.backoff !== undefined && c.backoff.length > 0) {
    if (pedantic && c.ack_wait !== c.backoff[0]) refuse("first backoff value has to equal batch AckWait");
    c.ack_wait = c.backoff[0];
  }
  const cl = consumerLimitsOf(stream);
  if ((c.max_ack_pending ?? 0) === 0) {
    if (pedantic && cl.max_ack_pending > 0)
      refuse("max_ack_pending must be set if it's configured in stream limits");
    if (cl.max_ack_pending > 0) c.max_ack_pending = cl.max_ack_pending;
  }
  if ((c.inactive_threshold ?? 0) === 0) {
    if (pedantic && cl.inactive_threshold > 0) {
      refuse("inactive_threshold must be set if it's configured in stream limits");
    }
    if (cl.inactive_threshold > 0) c.inactive_threshold = cl.inactive_threshold;
  }
  if ((c.max_ack_pending ?? 0) === 0 && c.ack_policy !== "none") {
    let p = DEFAULT_MAX_ACK_PENDING;
    if (lim.accountMaxAckPending > 0 && lim.accountMaxAckPending < p) p = lim.accountMaxAckPending;
    c.max_ack_pending = p;
  }
  if (c.priority_policy === "pinned_client" && (c.priority_timeout ?? 0) === 0) {
    c.priority_timeout = DEFAULT_PRIORITY_TIMEOUT_NS;
  }
  if (c.durable_name !== undefined && c.name === undefined) c.name = c.durable_name;
}

function consumerLimitsOf(stream: StreamConfig): { max_ack_pending: number; inactive_threshold: number } {
  const l = (stream as unknown as { consumer_limits?: Obj }).consumer_limits ?? {};
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  return { max_ack_pending: n(l.max_ack_pending), inactive_threshold: n(l.inactive_threshold) };
}

const invalidPolicy = (text: string) => apiErrorText("ConsumerInvalidPolicy", text);

/** A consumer or durable name: no '.', '*', '>' and no whitespace. */
export function isValidConsumerName(name: string): boolean {
  return name !== "" && !/[.*>\s]/.test(name);
}

/** nats-server's checkConsumerCfg, in its order. Throws the ApiError to answer with. */
export function checkConfig(c: ConsumerConfig, stream: StreamConfig, lim: ConsumerLimits): void {
  if (c.num_replicas > 0 && c.num_replicas > stream.num_replicas)
    throw apiError("ConsumerReplicasExceedsStream");
  if (c.num_replicas < 0) throw apiError("ReplicasCountCannotBeNegative");
  if (
    (stream.retention === "interest" || stream.retention === "workqueue") &&
    c.num_replicas !== 0 &&
    c.num_replicas !== stream.num_replicas
  ) {
    throw apiError("ConsumerReplicasShouldMatchStream");
  }
  const bo = c.backoff?.length ?? 0;
  if (bo > 0 && (c.max_deliver ?? -1) <= bo) throw apiError("ConsumerMaxDeliverBackoff");
  if ((c.description ?? "").length > MAX_DESCRIPTION) {
    throw apiError("ConsumerDescriptionTooLong", { max: MAX_DESCRIPTION });
  }
  if (isPush(c)) {
    const ds = c.deliver_subject ?? "";
    if (!isLiteralSubject(ds)) throw apiError("ConsumerDeliverToWildcards");
    if (!isValidSubscribeSubject(ds)) throw apiError("ConsumerInvalidDeliverSubject");
    if ((stream.subjects ?? []).some((s) => isSubsetMatch(ds, s))) throw apiError("ConsumerDeliverCycle");
    if ((c.max_waiting ?? 0) !== 0) throw apiError("ConsumerPushMaxWaiting");
    if ((c.max_ack_pending ?? 0) > 0 && c.ack_policy === "none") {
      throw apiError("ConsumerMaxPendingAckPolicyRequired");
    }
    const hb = c.idle_heartbeat ?? 0;
    if (hb > 0 && hb < 100 * NS_PER_MS) throw apiError("ConsumerSmallHeartbeat");
  } else {
    if (c.ack_policy === "none" && stream.retention === "workqueue")
      throw apiError("ConsumerPullRequiresAck");
    if ((c.rate_limit_bps ?? 0) > 0) throw apiError("ConsumerPullWithRateLimit");
    if ((c.max_waiting ?? 0) < 0) throw apiError("ConsumerMaxWaitingNegative");
    if ((c.idle_heartbeat ?? 0) > 0) throw apiError("ConsumerHBRequiresPush");
    if (c.flow_control) throw apiError("ConsumerFCRequiresPush");
    if ((c.max_batch ?? 0) < 0) throw apiError("ConsumerMaxRequestBatchNegative");
    const me = c.max_expires ?? 0;
    if (me !== 0 && me < NS_PER_MS) throw apiError("ConsumerMaxRequestExpiresToSmall");
  }
  if (lim.accountMaxAckPending > 0 && (c.max_ack_pending ?? 0) > lim.accountMaxAckPending) {
    throw apiError("ConsumerMaxPendingAckExcess", { limit: lim.accountMaxAckPending });
  }
  const cl = consumerLimitsOf(stream);
  if (cl.max_ack_pending > 0 && (c.max_ack_pending ?? 0) > cl.max_ack_pending) {
    throw apiError("ConsumerMaxPendingAckExcess", { limit: cl.max_ack_pending });
  }
  if (cl.inactive_threshold > 0 && (c.inactive_threshold ?? 0) > cl.inactive_threshold) {
    throw apiError("ConsumerInactiveThresholdExcess", { limit: goDuration(cl.inactive_threshold) });
  }
  if (c.direct) {
    if (!isPush(c)) throw apiError("ConsumerDirectRequiresPush");
    if (isDurable(c)) throw apiError("ConsumerDirectRequiresEphemeral");
  }
  if (c.filter_subject !== undefined && c.filter_subjects !== undefined) {
    throw apiError("ConsumerDuplicateFilterSubjects");
  }
  if (c.filter_subject !== undefined && !isValidSubscribeSubject(c.filter_subject)) {
    throw apiErrorText("StreamInvalidConfig", "invalid subject");
  }
  for (const f of c.filter_subjects ?? []) if (f === "") throw apiError("ConsumerEmptyFilter");
  const filters = filtersOf(c);
  for (let i = 0; i < filters.length; i++) {
    if (!isValidSubscribeSubject(filters[i])) throw apiErrorText("StreamInvalidConfig", "invalid subject");
    for (let j = 0; j < filters.length; j++) {
      if (i !== j && isSubsetMatch(filters[i], filters[j]))
        throw apiError("ConsumerOverlappingSubjectFilters");
    }
  }
  const badStart = (dp: string, start: string) =>
    invalidPolicy(`consumer delivery policy is deliver ${dp}, but optional start ${start} is also set`);
  const notSet = (dp: string, what: string) =>
    invalidPolicy(`consumer delivery policy is deliver ${dp}, but optional ${what} is not set`);
  const seq = c.opt_start_seq ?? 0;
  const time = c.opt_start_time;
  switch (c.deliver_policy) {
    case "all":
    case "last":
    case "new": {
      if (seq > 0) throw badStart(c.deliver_policy, "sequence");
      if (time !== undefined) throw badStart(c.deliver_policy, "time");
      break;
    }
    case "last_per_subject":
      if (seq > 0) throw badStart("last per subject", "sequence");
      if (time !== undefined) throw badStart("last per subject", "time");
      if (filters.length === 0) throw notSet("last per subject", "filter subject");
      break;
    case "by_start_sequence":
      if (seq === 0) throw notSet("by start sequence", "start sequence");
      if (time !== undefined) throw badStart("by start sequence", "time");
      break;
    case "by_start_time":
      if (time === undefined) throw notSet("by start time", "start time");
      if (seq !== 0) throw badStart("by start time", "start sequence");
      break;
  }
  if (c.sample_freq !== undefined) {
    const s = c.sample_freq.replace(/%$/, "");
    if (!/^[+-]?\d+$/.test(s) || Number(s) < 0) {
      throw apiError("ConsumerInvalidSampling", {
        err: /^[+-]?\d+$/.test(s) ? "<nil>" : `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`,
      });
    }
  }
  if (c.flow_control && (c.idle_heartbeat ?? 0) === 0)
    throw apiError("ConsumerWithFlowControlNeedsHeartbeats");
  if (c.durable_name !== undefined && c.name !== undefined && c.name !== c.durable_name) {
    throw apiError("ConsumerCreateDurableAndNameMismatch");
  }
  let md = 0;
  for (const [k, v] of Object.entries(c.metadata ?? {})) md += k.length + v.length;
  if (md > MAX_METADATA) throw apiError("ConsumerMetadataLength", { limit: `${MAX_METADATA / 1024}KB` });
  if (c.priority_policy !== undefined) {
    if (isPush(c)) throw apiError("ConsumerPushWithPriorityGroup");
    const groups = c.priority_groups ?? [];
    if (groups.length === 0) throw apiError("ConsumerPriorityPolicyWithoutGroup");
    for (const g of groups) {
      if (g === "") throw apiError("ConsumerEmptyGroupName");
      if (!isValidGroupName(g)) throw apiError("ConsumerInvalidGroupName");
    }
  } else {
    if ((c.priority_groups?.length ?? 0) > 0) throw apiError("ConsumerPriorityGroupWithPolicyNone");
    if ((c.priority_timeout ?? 0) > 0) throw apiError("ConsumerPinnedTTLWithoutPriorityPolicyNone");
  }
  if (c.dead_letter_subject !== undefined) {
    const d = c.dead_letter_subject;
    if (!isValidSubscribeSubject(d) || !isLiteralSubject(d)) {
      throw apiErrorText("ConsumerCreate", "dead letter subject must be a valid literal subject");
    }
  }
}

/** Name checks done once the name is known (durable or chosen). */
export function checkName(name: string, durable: boolean): void {
  // The name is a directory under the stream's: never a path.
  if (/[\\/]/.test(name)) throw apiError("ConsumerNameContainsPathSeparators");
  if (durable && name.length > MAX_NAME) throw apiError("ConsumerNameTooLong", { max: MAX_NAME });
  if (!isValidConsumerName(name)) throw apiError("ConsumerBadDurableName");
}

/** Go's time.Duration String() for whole values the API shows (e.g. `Exceeded MaxRequestExpires of 1s`). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out: string;
  if (v < 1000) out = `${v}ns`;
  else if (v < 1_000_000) out = `${trim(v / 1000)}µs`;
  else if (v < 1_000_000_000) out = `${trim(v / 1_000_000)}ms`;
  else {
    const h = Math.floor(v / 3_600_000_000_000);
    v -= h * 3_600_000_000_000;
    const m = Math.floor(v / 60_000_000_000);
    v -= m * 60_000_000_000;
    const s = `${trim(v / 1_000_000_000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trim(v: number): string {
  return String(Number(v.toFixed(9)));
}

/** The config as nats-server marshals it (field order, omitempty). */
export function configJson(c: ConsumerConfig): Obj {
  const o: Obj = {};
  const put = (k: string, v: unknown) => {
    if (v === undefined || v === "" || v === 0 || v === false) return;
    o[k] = v;
  };
  put("durable_name", c.durable_name);
  put("name", c.name);
  put("description", c.description);
  o.deliver_policy = c.deliver_policy;
  put("opt_start_seq", c.opt_start_seq);
  if (c.opt_start_time !== undefined) o.opt_start_time = rfc3339(c.opt_start_time);
  o.ack_policy = c.ack_policy;
  put("ack_wait", c.ack_wait);
  put("max_deliver", c.max_deliver);
  if (c.backoff !== undefined && c.backoff.length > 0) o.backoff = [...c.backoff];
  put("filter_subject", c.filter_subject);
  if (c.filter_subjects !== undefined && c.filter_subjects.length > 0)
    o.filter_subjects = [...c.filter_subjects];
  o.replay_policy = c.replay_policy;
  put("rate_limit_bps", c.rate_limit_bps);
  put("sample_freq", c.sample_freq);
  put("max_waiting", c.max_waiting);
  put("max_ack_pending", c.max_ack_pending);
  put("idle_heartbeat", c.idle_heartbeat);
  put("flow_control", c.flow_control);
  put("headers_only", c.headers_only);
  put("max_batch", c.max_batch);
  put("max_expires", c.max_expires);
  put("max_bytes", c.max_bytes);
  put("deliver_subject", c.deliver_subject);
  put("deliver_group", c.deliver_group);
  put("inactive_threshold", c.inactive_threshold);
  o.num_replicas = c.num_replicas;
  put("mem_storage", c.mem_storage);
  put("direct", c.direct);
  if (c.metadata !== undefined && Object.keys(c.metadata).length > 0) o.metadata = { ...c.metadata };
  if (c.pause_until !== undefined) o.pause_until = rfc3339(c.pause_until);
  if (c.priority_groups !== undefined && c.priority_groups.length > 0)
    o.priority_groups = [...c.priority_groups];
  put("priority_policy", c.priority_policy);
  put("priority_timeout", c.priority_timeout);
  put("dead_letter_subject", c.dead_letter_subject);
  return o;
}

/** A stable identity of a config for "same config?" checks (create with action=create). */
export function configKey(c: ConsumerConfig): string {
  const o = configJson(c);
  const sorted: Obj = {};
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    sorted[k] =
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Obj).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v;
  }
  return JSON.stringify(sorted);
}

/** Changes an update may not make; returns the error text (wrapped as 10012 by the caller), or undefined. */
export function updateProblem(old: ConsumerConfig, next: ConsumerConfig): string | undefined {
  if (configKey(old) === configKey(next)) return undefined;
  if (old.deliver_policy !== next.deliver_policy) return "deliver policy can not be updated";
  if ((old.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) return "start sequence can not be updated";
  if (old.opt_start_time !== next.opt_start_time) return "start time can not be updated";
  if (old.ack_policy !== next.ack_policy) return "ack policy can not be updated";
  if (old.replay_policy !== next.replay_policy) return "replay policy can not be updated";
  if ((old.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) return "heart beats can not be updated";
  if ((old.flow_control ?? false) !== (next.flow_control ?? false)) return "flow control can not be updated";
  if ((old.max_waiting ?? 0) !== (next.max_waiting ?? 0)) return "max waiting can not be updated";
  if ((old.deliver_subject ?? "") !== (next.deliver_subject ?? "")) {
    if (!isPush(old)) return "can not update pull consumer to push based";
    if (!isPush(next)) return "can not update push consumer to pull based";
  }
  const bo = next.backoff?.length ?? 0;
  if (bo > 0 && (next.max_deliver ?? -1) <= bo)
    return "max deliver is required to be > length of backoff values";
  return undefined;
}

/** Deep copy (configs are shared between the consumer, its store and info answers). */
export function cloneConfig(c: ConsumerConfig): ConsumerConfig {
  return {
    ...c,
    ...(c.backoff ? { backoff: [...c.backoff] } : {}),
    ...(c.filter_subjects ? { filter_subjects: [...c.filter_subjects] } : {}),
    ...(c.metadata ? { metadata: { ...c.metadata } } : {}),
    ...(c.priority_groups ? { priority_groups: [...c.priority_groups] } : {}),
  };
}

/** Config as stored on disk (JSON-safe: times as RFC 3339). */
export function configToDisk(c: ConsumerConfig): Obj {
  return configJson(c);
}

export function configFromDisk(o: Obj): ConsumerConfig {
  return decodeConsumerConfig(o);
}
