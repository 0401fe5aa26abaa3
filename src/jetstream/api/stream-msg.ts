// STREAM.MSG.GET (JSON form of a stored message), STREAM.MSG.DELETE and STREAM.PURGE.

import { apiError } from "../api-errors.js";
import { b64, isBlank, optBool, optInt, optString, optTime, parseBody, rfc3339 } from "../json.js";
import type { StoredMessage } from "../store/index.js";
import { streamToken } from "./streams.js";
import type { ApiRequest, ApiRoute } from "./types.js";

function streamOf(req: ApiRequest) {
  const stream = req.account.stream(streamToken(req));
  if (stream === undefined) throw apiError("StreamNotFound");
  return stream;
}

export const msgGet: ApiRoute = {
  type: "stream_msg_get_response",
  handle(req) {
    if (isBlank(req.data)) {
      streamOf(req);
      throw apiError("BadRequest");
    }
    const body = parseBody(req.data);
    const seq = optInt(body, "seq", true) ?? 0;
    const last = optString(body, "last_by_subj") ?? "";
    const next = optString(body, "next_by_subj") ?? "";
    const startTime = optTime(body, "start_time");
    const noHdr = optBool(body, "no_hdr") ?? false;
    const stream = streamOf(req);
    const store = stream.store;
    let msg: StoredMessage | undefined;
    if (last !== "") {
      if (seq > 0 || next !== "" || startTime !== undefined) throw apiError("BadRequest");
      msg = store.getLastBySubject(last);
    } else if (startTime !== undefined) {
      if (seq > 0) throw apiError("BadRequest");
      msg = store.getNext(store.seqForTime(Number(startTime / 1_000_000n)), next || undefined);
    } else if (next !== "") {
      msg = store.getNext(seq || 1, next);
    } else if (seq > 0) {
      msg = store.get(seq);
    } else {
      throw apiError("BadRequest");
    }
    if (msg === undefined) throw apiError("NoMessageFound");
    const out: Record<string, unknown> = { subject: msg.subject, seq: msg.seq };
    if (!noHdr && msg.headers !== undefined && msg.headers.length > 0) out.hdrs = b64(msg.headers);
    if (msg.data.length > 0) out.data = b64(msg.data);
    out.time = rfc3339(msg.timeNs);
    return { message: out };
  },
};

export const msgDelete: ApiRoute = {
  type: "stream_msg_delete_response",
  audit: true,
  async handle(req) {
    if (isBlank(req.data)) {
      streamOf(req);
      throw apiError("BadRequest");
    }
    const body = parseBody(req.data);
    const seq = optInt(body, "seq", true);
    const noErase = optBool(body, "no_erase") ?? false;
    const stream = streamOf(req);
    if (seq === undefined) throw apiError("BadRequest");
    await req.admin.deleteMessage(stream, seq, !noErase);
    return { success: true };
  },
};

export const streamPurge: ApiRoute = {
  type: "stream_purge_response",
  audit: true,
  errorExtras: { purged: 0 },
  handle(req) {
    const body = parseBody(req.data);
    const filter = optString(body, "filter") ?? "";
    const seq = optInt(body, "seq", true) ?? 0;
    const keep = optInt(body, "keep", true) ?? 0;
    const stream = streamOf(req);
    if (seq > 0 && keep > 0) throw apiError("BadRequest");
    return req.account.serialize(async () => {
      const purged = await req.admin.purgeStream(stream, { filter: filter || undefined, seq, keep });
      return { success: true, purged };
    });
  },
};
