// STREAM.NAMES (1024 a page) and STREAM.LIST (256 infos a page), optionally filtered by subject.

import { subjectsCollide } from "../../subjects/pattern.js";
import { isValidSubscribeSubject } from "../../subjects/validate.js";
import { optInt, optString, parseBody } from "../json.js";
import type { Stream } from "../stream.js";
import { streamInfo } from "../stream-info.js";
import type { ApiRequest, ApiRoute } from "./types.js";

const NAMES_LIMIT = 1024;
const LIST_LIMIT = 256;

function page(req: ApiRequest, limit: number): { streams: Stream[]; total: number; offset: number } {
  const body = parseBody(req.data);
  const filter = optString(body, "subject") ?? "";
  let offset = optInt(body, "offset") ?? 0;
  let streams = req.account.streams();
  if (filter !== "") {
    streams = isValidSubscribeSubject(filter)
      ? streams.filter((s) => (s.config.subjects ?? []).some((subj) => subjectsCollide(subj, filter)))
      : [];
  }
  offset = Math.min(Math.max(0, offset), streams.length);
  return { streams: streams.slice(offset, offset + limit), total: streams.length, offset };
}

export const streamNames: ApiRoute = {
  type: "stream_names_response",
  errorExtras: { total: 0, offset: 0, limit: 0, streams: null },
  handle(req) {
    const p = page(req, NAMES_LIMIT);
    const names = p.streams.map((s) => s.name);
    return { total: p.total, offset: p.offset, limit: NAMES_LIMIT, streams: names.length > 0 ? names : null };
  },
};

export const streamList: ApiRoute = {
  type: "stream_list_response",
  errorExtras: { total: 0, offset: 0, limit: 0, streams: [] },
  handle(req) {
    const p = page(req, LIST_LIMIT);
    const infos = p.streams.map((s) => streamInfo(s, req.account.sourcing(s.name)).info);
    return { total: p.total, offset: p.offset, limit: LIST_LIMIT, streams: infos };
  },
};
