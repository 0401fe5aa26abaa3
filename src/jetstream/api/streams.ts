// STREAM.CREATE / UPDATE / DELETE / INFO.

import { apiError } from "../api-errors.js";
import { checkStreamName } from "../config-check.js";
import { isBlank, optBool, optInt, optString, parseBody } from "../json.js";
import { streamInfo } from "../stream-info.js";
import type { ApiPayload, ApiRequest, ApiRoute } from "./types.js";

/** The stream name token of `STREAM.<OP>.<name>` style subjects (always the last token). */
export function streamToken(req: ApiRequest): string {
  return req.tokens[req.tokens.length - 1];
}

/** A create/update body: must be a JSON object whose name matches the subject. */
function configBody(req: ApiRequest): Record<string, unknown> {
  if (isBlank(req.data)) throw apiError("InvalidJSON");
  const body = parseBody(req.data);
  const name = streamToken(req);
  if (body.name === undefined || body.name === null || body.name === "") {
    throw apiError("StreamMismatch");
  }
  if (typeof body.name !== "string") throw apiError("InvalidJSON");
  if (body.name !== name) throw apiError("StreamMismatch");
  if (typeof body.pedantic !== "undefined" && typeof body.pedantic !== "boolean")
    throw apiError("InvalidJSON");
  checkStreamName(name);
  return body;
}

export const streamCreate: ApiRoute = {
  type: "stream_create_response",
  audit: true,
  async handle(req) {
    const body = configBody(req);
    const acc = req.account;
    return acc.serialize(async () => {
      const { stream, created } = await req.admin.createStream(body);
      const out: ApiPayload = streamInfo(stream, acc.sourcing(stream.name)).info;
      if (created) out.did_create = true;
      return out;
    });
  },
};

export const streamUpdate: ApiRoute = {
  type: "stream_update_response",
  audit: true,
  async handle(req) {
    const body = configBody(req);
    const acc = req.account;
    return acc.serialize(async () => {
      const stream = await req.admin.updateStream(streamToken(req), body);
      return streamInfo(stream, acc.sourcing(stream.name)).info;
    });
  },
};

export const streamDelete: ApiRoute = {
  type: "stream_delete_response",
  audit: true,
  async handle(req) {
    if (!isBlank(req.data)) throw apiError("NotEmptyRequest");
    const acc = req.account;
    const name = streamToken(req);
    return acc.serialize(async () => {
      await req.admin.deleteStream(name);
      return { success: true };
    });
  },
};

export const streamInfoRoute: ApiRoute = {
  type: "stream_info_response",
  errorExtras: { total: 0, offset: 0, limit: 0 },
  handle(req) {
    const body = parseBody(req.data);
    const deletedDetails = optBool(body, "deleted_details") ?? false;
    const subjectsFilter = optString(body, "subjects_filter");
    const offset = optInt(body, "offset") ?? 0;
    const stream = req.account.stream(streamToken(req));
    if (stream === undefined) throw apiError("StreamNotFound");
    const { info, paging } = streamInfo(stream, req.account.sourcing(stream.name), {
      deletedDetails,
      subjectsFilter,
      offset,
    });
    return { total: paging.total, offset: paging.offset, limit: paging.limit, ...info };
  },
};
