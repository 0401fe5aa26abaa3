// CONSUMER.* endpoints: create (all subject forms, with nats-server's checks in its order), info, delete,
// names, list, pause; MSG.NEXT is routed straight to the consumer (`consumerPull`). Leader stepdown,
// unpin and reset answer for a consumer that exists with the error a single server gives.

import { apiError } from "../api-errors.js";
import { decodeCreateRequest, isValidGroupName } from "../consumer/config.js";
import type { Consumer } from "../consumer/consumer.js";
import { consumersOf } from "../consumer/consumer-set.js";
import type { JsAccount } from "../js-account.js";
import { isBlank, optInt, optString, optTime, parseBody, rfc3339, ZERO_TIME } from "../json.js";
import type { Stream } from "../stream.js";
import type { ApiRequest, ApiRoute } from "./types.js";

const NAMES_LIMIT = 1024;
const LIST_LIMIT = 256;

function streamNamed(req: ApiRequest, name: string): Stream {
  const stream = req.account.stream(name);
  if (stream === undefined) throw apiError("StreamNotFound");
  return stream;
}

function consumerNamed(stream: Stream, name: string): Consumer {
  const c = consumersOf(stream)?.get(name);
  if (c === undefined) throw apiError("ConsumerNotFound");
  return c;
}

export const consumerCreate: ApiRoute = {
  type: "consumer_create_response",
  audit: true,
  handle(req) {
    const body = parseBody(req.data, false);
    const cr = decodeCreateRequest(body);
    const t = req.tokens;
    let streamName: string;
    let consumerName = "";
    let filtered = "";
    let kind: "ephemeral" | "durable" | "named";
    if (t[1] === "DURABLE") {
      kind = "durable";
      if (t.length !== 5) throw apiError("ConsumerDurableNameNotInSubject");
      streamName = t[3];
      consumerName = t[4];
    } else if (t.length === 3) {
      kind = "ephemeral";
      streamName = t[2];
    } else {
      kind = "named";
      streamName = t[2];
      consumerName = t[3];
      if (t.length > 4) filtered = t.slice(4).join(".");
    }
    if (streamName !== cr.stream_name) throw apiError("StreamMismatch");
    if (consumerName !== "" && /[\\/]/.test(consumerName))
      throw apiError("ConsumerNameContainsPathSeparators");
    const cfg = cr.config;
    if (kind === "durable") {
      if (cfg.durable_name === undefined) throw apiError("ConsumerDurableNameNotSet");
      if (consumerName !== cfg.durable_name) throw apiError("ConsumerDurableNameNotMatchSubject");
    }
    if (kind === "named") {
      if (cfg.durable_name !== undefined && consumerName !== cfg.durable_name) {
        throw apiError("ConsumerDurableNameNotMatchSubject");
      }
      cfg.name = consumerName;
    }
    if (kind === "ephemeral" && cfg.durable_name !== undefined)
      throw apiError("ConsumerEphemeralWithDurableName");
    if (filtered !== "" && cfg.filter_subjects !== undefined)
      throw apiError("ConsumerMultipleFiltersNotAllowed");
    if (filtered !== "" && cfg.filter_subject !== filtered)
      throw apiError("ConsumerCreateFilterSubjectMismatch");
    if (cfg.num_replicas > 1) throw apiError("StreamReplicasNotSupported");
    const stream = streamNamed(req, cr.stream_name);
    const set = consumersOf(stream);
    if (set === undefined) throw apiError("StreamNotFound");
    const { consumer } = set.create(cfg, cr.action, cr.pedantic);
    return consumer.info();
  },
};

export const consumerInfo: ApiRoute = {
  type: "consumer_info_response",
  handle(req) {
    if (!isBlank(req.data)) throw apiError("NotEmptyRequest");
    const stream = streamNamed(req, req.tokens[2]);
    return consumerNamed(stream, req.tokens[3]).info();
  },
};

export const consumerDelete: ApiRoute = {
  type: "consumer_delete_response",
  audit: true,
  handle(req) {
    if (!isBlank(req.data)) throw apiError("NotEmptyRequest");
    const stream = streamNamed(req, req.tokens[2]);
    const set = consumersOf(stream);
    if (set === undefined || !set.delete(req.tokens[3])) throw apiError("ConsumerNotFound");
    return { success: true };
  },
};

function offsetOf(req: ApiRequest): number {
  if (isBlank(req.data)) return 0;
  return Math.max(0, optInt(parseBody(req.data), "offset") ?? 0);
}

export const consumerNames: ApiRoute = {
  type: "consumer_names_response",
  errorExtras: { total: 0, offset: 0, limit: 0, consumers: [] },
  handle(req) {
    const offset = offsetOf(req);
    const stream = streamNamed(req, req.tokens[2]);
    const all = (consumersOf(stream)?.list() ?? []).map((c) => c.name);
    const page = all.slice(offset, offset + NAMES_LIMIT);
    return { total: all.length, offset: Math.min(offset, all.length), limit: NAMES_LIMIT, consumers: page };
  },
};

export const consumerList: ApiRoute = {
  type: "consumer_list_response",
  errorExtras: { total: 0, offset: 0, limit: 0, consumers: [] },
  handle(req) {
    const offset = offsetOf(req);
    const stream = streamNamed(req, req.tokens[2]);
    const all = consumersOf(stream)?.list() ?? [];
    const page = all.slice(offset, offset + LIST_LIMIT).map((c) => c.info());
    return { total: all.length, offset: Math.min(offset, all.length), limit: LIST_LIMIT, consumers: page };
  },
};

export const consumerPause: ApiRoute = {
  type: "consumer_pause_response",
  audit: true,
  handle(req) {
    let until = 0n;
    if (!isBlank(req.data)) until = optTime(parseBody(req.data), "pause_until") ?? 0n;
    const stream = streamNamed(req, req.tokens[2]);
    const c = consumerNamed(stream, req.tokens[3]);
    c.pause(until);
    try {
      c.store.updateConfig(c.created, c.config);
    } catch {
      // The pause still applies; it is lost on restart.
    }
    const p = c.pauseInfo();
    const pauseUntil = p.pauseUntil > 0n ? rfc3339(p.pauseUntil) : ZERO_TIME;
    consumersOf(stream)?.advisories.pause(stream.name, c.name, p.paused, pauseUntil);
    const out: Record<string, unknown> = { paused: p.paused, pause_until: pauseUntil };
    if (p.remainingNs > 0) out.pause_remaining = p.remainingNs;
    return out;
  },
};

/** `CONSUMER.UNPIN.<stream>.<consumer>` `{"group":"..."}`: the group's pinned client loses its pin. */
export const consumerUnpin: ApiRoute = {
  type: "consumer_unpin_response",
  audit: true,
  handle(req) {
    const group = optString(parseBody(req.data), "group") ?? "";
    if (group === "") throw apiError("InvalidJSON");
    if (!isValidGroupName(group)) throw apiError("ConsumerInvalidGroupName");
    const stream = streamNamed(req, req.tokens[2]);
    const c = consumerNamed(stream, req.tokens[3]);
    if (!c.unpin(group)) throw apiError("ConsumerInvalidPriorityGroup");
    return {};
  },
};

/** RESET / LEADER.STEPDOWN: what a single server without those features answers. */
export function consumerAction(type: string): ApiRoute {
  return {
    type,
    handle(req) {
      const stepdown = req.tokens[1] === "LEADER";
      const stream = streamNamed(req, req.tokens[stepdown ? 3 : 2]);
      consumerNamed(stream, req.tokens[stepdown ? 4 : 3]);
      if (stepdown) throw apiError("ClusterRequired");
      throw apiError("NotSupported", { feature: type.replace(/^consumer_|_response$/g, "") });
    },
  };
}

/** `CONSUMER.MSG.NEXT.<stream>.<consumer>`: false when there is no such consumer (the caller answers 503). */
export function consumerPull(
  account: JsAccount,
  tokens: readonly string[],
  reply: string,
  data: Uint8Array,
): boolean {
  if (tokens.length !== 5) return false;
  const stream = account.stream(tokens[3]);
  if (stream === undefined) return false;
  return consumersOf(stream)?.pull(tokens[4], reply, data) ?? false;
}
