import { kindLabel, type ReceiverKind } from "../server/receiver.js";
import { authIdentity, authJwt, type ConnzGrant, peerCerts } from "./connz-auth.js";
import { goDuration, iso, uptime } from "./format.js";
import { decodeBool, decodeUint, paging } from "./params.js";
import { HttpError, type MonitoredConnection, type MonitoredServer } from "./types.js";

export const DEFAULT_CONN_LIST_SIZE = 1024;

type State = "open" | "closed" | "all";
type Compare = (a: MonitoredConnection, b: MonitoredConnection, now: number) => number;

const end = (c: MonitoredConnection, now: number) => c.stop?.getTime() ?? now;
const desc =
  (f: (c: MonitoredConnection, now: number) => number): Compare =>
  (a, b, now) =>
    f(b, now) - f(a, now);
const asc =
  (f: (c: MonitoredConnection, now: number) => number): Compare =>
  (a, b, now) =>
    f(a, now) - f(b, now);

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// Directions follow nats-server: cid, start and uptime ascending, reason alphabetical, the rest largest
// (or most recent) first. `rtt` is accepted as in nats-server 2.10+.
const SORTS: Record<string, Compare> = {
  cid: asc((c) => c.cid),
  start: asc((c) => c.start.getTime()),
  subs: desc((c) => c.subs.size),
  pending: desc((c) => (c.stop ? 0 : c.pendingBytes)),
  msgs_to: desc((c) => c.stats.outMsgs),
  msgs_from: desc((c) => c.stats.inMsgs),
  bytes_to: desc((c) => c.stats.outBytes),
  bytes_from: desc((c) => c.stats.inBytes),
  last: desc((c) => c.lastActivity),
  idle: desc((c, now) => end(c, now) - c.lastActivity),
  uptime: asc((c, now) => end(c, now) - c.start.getTime()),
  rtt: desc((c) => c.rttMs),
  stop: desc((c) => c.stop?.getTime() ?? 0),
  reason: (a, b) => byText(a.closeReason ?? "", b.closeReason ?? ""),
};

interface ConnzOptions {
  sort: string;
  auth: boolean;
  subs: boolean;
  detail: boolean;
  offset: number;
  limit: number;
  cid: number;
  state: State;
  user: string;
  acc: string;
}

function parseState(v: string | null): State {
  switch ((v ?? "").toLowerCase()) {
    case "":
    case "open":
      return "open";
    case "closed":
      return "closed";
    case "all":
    case "any":
      return "all";
    default:
      throw new HttpError(400, `Error decoding state for ${v}`);
  }
}

/** Parameters in nats-server's decoding order, so the first bad one is the one reported. */
export function parseConnzOptions(q: URLSearchParams): ConnzOptions {
  const sort = q.get("sort") ?? "";
  const auth = decodeBool(q, "auth");
  const detail = q.get("subs") === "detail";
  const subs = detail || decodeBool(q, "subs");
  const { offset, limit } = paging(q, DEFAULT_CONN_LIST_SIZE);
  const cid = decodeUint(q, "cid");
  const state = parseState(q.get("state"));
  if (sort !== "" && !Object.hasOwn(SORTS, sort)) throw new HttpError(400, `invalid sorting option: ${sort}`);
  if ((sort === "stop" || sort === "reason") && state !== "closed") {
    throw new HttpError(400, `sort by ${sort} only valid on closed connections`);
  }
  return {
    sort,
    auth,
    subs,
    detail,
    offset,
    limit,
    cid,
    state,
    user: q.get("user") ?? "",
    acc: q.get("acc") ?? "",
  };
}

export function connz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const o = parseConnzOptions(q);
  const open = o.state === "closed" ? [] : [...server.clients.values()];
  const closed = o.state === "open" ? [] : server.closed.list();
  let conns = open.concat(closed);
  if (o.acc !== "") conns = conns.filter((c) => c.account?.name === o.acc);
  // As in nats-server, `total` counts the state (and account) but not the user filter or paging.
  const total = conns.length;
  if (o.user !== "") conns = conns.filter((c) => c.user === o.user);

  let page: MonitoredConnection[];
  let limit = o.limit;
  if (o.cid > 0) {
    limit = 1;
    page = conns.filter((c) => c.cid === o.cid);
  } else {
    const t = now.getTime();
    const cmp = SORTS[o.sort || "cid"];
    conns.sort((a, b) => cmp(a, b, t) || a.cid - b.cid);
    page = conns.slice(o.offset, o.offset + limit);
  }
  return {
    server_id: server.id,
    now: iso(now),
    num_connections: page.length,
    total,
    offset: o.offset,
    limit,
    connections: page.map((c) => connInfo(c, now.getTime(), o, (x) => server.accountManager?.grantOf?.(x))),
  };
}

/** One /connz entry; optional fields are left out when empty, as nats-server's omitempty does. */
export function connInfo(
  c: MonitoredConnection,
  now: number,
  o: Pick<ConnzOptions, "auth" | "subs" | "detail">,
  grantOf?: (c: MonitoredConnection) => ConnzGrant | undefined,
) {
  const until = c.stop?.getTime() ?? now;
  const info: Record<string, unknown> = {
    cid: c.cid,
    kind: kindLabel(c.kind as ReceiverKind),
    type: c.transport.kind === "websocket" ? "websocket" : "nats",
    ip: c.transport.remoteAddress,
    port: c.transport.remotePort,
    start: iso(c.start),
    last_activity: iso(c.lastActivity),
  };
  if (c.stop !== undefined) {
    info.stop = iso(c.stop);
    if (c.closeReason) info.reason = c.closeReason;
  }
  info.rtt = goDuration(c.rttMs);
  info.uptime = uptime(until - c.start.getTime());
  info.idle = uptime(until - c.lastActivity);
  info.pending_bytes = c.stop ? 0 : c.pendingBytes;
  info.in_msgs = c.stats.inMsgs;
  info.out_msgs = c.stats.outMsgs;
  info.in_bytes = c.stats.inBytes;
  info.out_bytes = c.stats.outBytes;
  info.subscriptions = c.subs.size;
  if (c.connect?.name) info.name = c.connect.name;
  if (c.connect?.lang) info.lang = c.connect.lang;
  if (c.connect?.version) info.version = c.connect.version;
  const tls = c.transport.tls;
  if (tls !== undefined) {
    info.tls_version = tls.version;
    info.tls_cipher_suite = tls.cipherSuite;
  }
  if (o.auth) {
    const peer = c.transport.peerCertificate;
    if (tls !== undefined && peer !== undefined) info.tls_peer_certs = peerCerts(peer);
    authIdentity(c, info);
  }
  if (o.subs && c.subs.size > 0) {
    const subs = [...c.subs.values()];
    if (o.detail) {
      info.subscriptions_list_detail = subs.map((s) => {
        const d: Record<string, unknown> = { subject: s.subject };
        if (s.queue !== undefined) d.qgroup = s.queue;
        d.sid = s.sid;
        d.msgs = s.delivered;
        if (s.max > 0) d.max = s.max;
        d.cid = c.cid;
        return d;
      });
    } else {
      info.subscriptions_list = subs.map((s) => s.subject);
    }
  }
  if (o.auth && c.stop === undefined) authJwt(grantOf?.(c), info);
  return info;
}
