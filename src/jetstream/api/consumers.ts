// CONSUMER.* until consumers land: what can be answered truthfully is (no consumer exists, so lists are
// empty and lookups find nothing); creating one answers with a clear "not supported" error instead of
// leaving the client to time out.

import { apiError } from "../api-errors.js";
import type { ApiRequest, ApiRoute } from "./types.js";

function streamOf(req: ApiRequest, index: number) {
  const stream = req.account.stream(req.tokens[index] ?? "");
  if (stream === undefined) throw apiError("StreamNotFound");
  return stream;
}

export const consumerCreate: ApiRoute = {
  type: "consumer_create_response",
  handle(req) {
    streamOf(req, req.tokens[1] === "DURABLE" ? 3 : 2);
    throw apiError("NotSupported", { feature: "creating consumers" });
  },
};

export const consumerInfo: ApiRoute = {
  type: "consumer_info_response",
  handle(req) {
    streamOf(req, 2);
    throw apiError("ConsumerNotFound");
  },
};

export const consumerDelete: ApiRoute = {
  type: "consumer_delete_response",
  handle(req) {
    streamOf(req, 2);
    throw apiError("ConsumerNotFound");
  },
};

export const consumerNames: ApiRoute = {
  type: "consumer_names_response",
  errorExtras: { total: 0, offset: 0, limit: 0, consumers: [] },
  handle(req) {
    streamOf(req, 2);
    return { total: 0, offset: 0, limit: 1024, consumers: [] };
  },
};

export const consumerList: ApiRoute = {
  type: "consumer_list_response",
  errorExtras: { total: 0, offset: 0, limit: 0, consumers: [] },
  handle(req) {
    streamOf(req, 2);
    return { total: 0, offset: 0, limit: 256, consumers: [] };
  },
};

/** PAUSE / UNPIN / RESET / LEADER.STEPDOWN on a consumer: there is none to act on. */
export function consumerAction(type: string): ApiRoute {
  return {
    type,
    handle(req) {
      streamOf(req, req.tokens[1] === "LEADER" ? 3 : 2);
      throw apiError("ConsumerNotFound");
    },
  };
}
