import { subjectMatches } from "../subjects/pattern.js";
import { isValidPublishSubject } from "../subjects/validate.js";
import { iso } from "./format.js";
import { decodeBool, paging } from "./params.js";
import { HttpError, type MonitoredAccount, type MonitoredServer } from "./types.js";

export const DEFAULT_SUB_LIST_SIZE = 1024;

/** nats-server's sublist statistics, summed over the selected accounts. */
export function sublistStats(accounts: Iterable<MonitoredAccount>) {
  let subs = 0;
  let cache = 0;
  let inserts = 0;
  let removes = 0;
  let matches = 0;
  let hits = 0;
  let maxFanout = 0;
  let fanoutTotal = 0;
  for (const a of accounts) {
    const s = a.sublist.stats();
    subs += s.count;
    cache += s.cacheEntries;
    inserts += s.inserts;
    removes += s.removes;
    matches += s.matches;
    hits += s.cacheHits;
    maxFanout = Math.max(maxFanout, s.maxFanout);
    fanoutTotal += s.avgFanout * s.cacheEntries;
  }
  return {
    num_subscriptions: subs,
    num_cache: cache,
    num_inserts: inserts,
    num_removes: removes,
    num_matches: matches,
    cache_hit_rate: matches === 0 ? 0 : hits / matches,
    max_fanout: maxFanout,
    avg_fanout: cache === 0 ? 0 : fanoutTotal / cache,
  };
}

export function subsz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const wantSubs = decodeBool(q, "subs");
  const { offset, limit } = paging(q, DEFAULT_SUB_LIST_SIZE);
  const test = q.get("test") ?? "";
  const acc = q.get("acc") ?? "";
  if (test !== "" && !isValidPublishSubject(test)) {
    throw new HttpError(400, `invalid test subject, must be valid publish subject: ${test}`);
  }
  const accounts = [...server.accounts.values()].filter((a) => acc === "" || a.name === acc);
  const stats = sublistStats(accounts);
  if (!wantSubs) return stats;

  // Walk rather than `match`: a monitoring query must not disturb the match cache or its counters.
  const details: object[] = [];
  for (const a of accounts) {
    for (const s of a.sublist.subscriptions()) {
      if (test !== "" && !subjectMatches(s.subject, test)) continue;
      const d: Record<string, unknown> = { account: a.name, subject: s.subject };
      if (s.queue !== undefined) d.qgroup = s.queue;
      d.sid = s.sid;
      d.msgs = s.delivered;
      if (s.max > 0) d.max = s.max;
      d.cid = s.owner.cid;
      details.push(d);
    }
  }
  const page = details.slice(offset, offset + limit);
  // nats-server answers with the bare statistics when the list is empty, and counts only the page.
  if (page.length === 0) return stats;
  return {
    server_id: server.id,
    now: iso(now),
    ...stats,
    total: page.length,
    offset,
    limit,
    subscriptions_list: page,
  };
}
