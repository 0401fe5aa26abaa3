// StreamInfo and StreamState as the API returns them (field names, order and omissions of nats-server).

import { rfc3339 } from "./json.js";
import type { Sourcing } from "./sourcing.js";
import type { Stream } from "./stream.js";
import { configJson } from "./stream-config.js";

/** Subjects one STREAM.INFO page lists at most. */
export const SUBJECTS_PAGE = 100_000;

export interface InfoOptions {
  deletedDetails?: boolean;
  /** List per-subject counts for subjects matching this filter. */
  subjectsFilter?: string;
  offset?: number;
}

export interface Paging {
  total: number;
  offset: number;
  limit: number;
}

export function streamState(
  stream: Stream,
  opts: InfoOptions = {},
): { state: Record<string, unknown>; paging: Paging } {
  const st = stream.store.state({ deletedDetails: opts.deletedDetails === true });
  const state: Record<string, unknown> = {
    messages: st.messages,
    bytes: st.bytes,
    first_seq: st.firstSeq,
    first_ts: rfc3339(st.messages > 0 ? st.firstTimeNs : 0n),
    last_seq: st.lastSeq,
    last_ts: rfc3339(st.lastTimeNs),
  };
  if (st.numSubjects > 0) state.num_subjects = st.numSubjects;
  const paging: Paging = { total: 0, offset: 0, limit: 0 };
  if (opts.subjectsFilter !== undefined && opts.subjectsFilter !== "" && st.messages > 0) {
    const all = [...stream.store.subjectsState(opts.subjectsFilter)].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    if (all.length > 0) {
      const offset = Math.min(Math.max(0, opts.offset ?? 0), all.length);
      const page = all.slice(offset, offset + SUBJECTS_PAGE);
      state.subjects = Object.fromEntries(page);
      paging.total = all.length;
      paging.offset = offset;
      paging.limit = SUBJECTS_PAGE;
    }
  }
  if (st.numDeleted > 0) state.num_deleted = st.numDeleted;
  if (opts.deletedDetails && st.deleted && st.deleted.length > 0) state.deleted = st.deleted;
  state.consumer_count = stream.consumerCount;
  return { state, paging };
}

/** `config`, `created`, `state`, then `mirror` / `sources` and `ts`. */
export function streamInfo(
  stream: Stream,
  sourcing: Sourcing | undefined,
  opts: InfoOptions = {},
): { info: Record<string, unknown>; paging: Paging } {
  const { state, paging } = streamState(stream, opts);
  const info: Record<string, unknown> = {
    config: configJson(stream.config),
    created: rfc3339(stream.created),
    state,
  };
  const mirror = sourcing?.mirrorInfo();
  if (mirror !== undefined) info.mirror = mirror;
  const sources = sourcing?.sourcesInfo();
  if (sources !== undefined) info.sources = sources;
  info.ts = rfc3339(BigInt(Date.now()) * 1_000_000n);
  return { info, paging };
}
