import type { MonitoredConnection, MonitoredServer, MonitoredSubscription } from "../../src/monitor/types.js";
import { defaultOptions, type ServerOptions } from "../../src/server/options.js";
import { ServerStats, TrafficStats } from "../../src/server/stats.js";
import { SubjectIndex } from "../../src/subjects/subject-index.js";

// Small stand-ins for the server, for endpoint tests that need exact control over times and counters.

export const T0 = Date.parse("2026-01-01T00:00:00.000Z");

export interface ConnSpec {
  cid: number;
  startMs?: number;
  lastMs?: number;
  stopMs?: number;
  reason?: string;
  subs?: string[];
  inMsgs?: number;
  outMsgs?: number;
  inBytes?: number;
  outBytes?: number;
  pending?: number;
  rttMs?: number;
  name?: string;
  user?: string;
  account?: string;
  websocket?: boolean;
}

export function fakeConn(s: ConnSpec): MonitoredConnection {
  const stats = new TrafficStats();
  stats.inMsgs = s.inMsgs ?? 0;
  stats.outMsgs = s.outMsgs ?? 0;
  stats.inBytes = s.inBytes ?? 0;
  stats.outBytes = s.outBytes ?? 0;
  const owner = { cid: s.cid };
  const subs = new Map<string, MonitoredSubscription>();
  (s.subs ?? []).forEach((subject, i) => {
    const sid = String(i + 1);
    subs.set(sid, { subject, queue: undefined, sid, delivered: 0, max: 0, owner });
  });
  return {
    cid: s.cid,
    kind: "Client",
    start: new Date(s.startMs ?? T0),
    lastActivity: s.lastMs ?? s.startMs ?? T0,
    stop: s.stopMs === undefined ? undefined : new Date(s.stopMs),
    closeReason: s.reason,
    stats,
    pendingBytes: s.pending ?? 0,
    rttMs: s.rttMs ?? 0,
    subs,
    account: { name: s.account ?? "$G" },
    transport: {
      kind: s.websocket ? "websocket" : "tcp",
      remoteAddress: "127.0.0.1",
      remotePort: 40000 + s.cid,
    },
    connect: { name: s.name, lang: "test", version: "1.0" },
    user: s.user,
  };
}

export function fakeServer(
  open: MonitoredConnection[],
  closed: MonitoredConnection[] = [],
  options: Partial<ServerOptions> = {},
): MonitoredServer & { stats: ServerStats } {
  const sublist = new SubjectIndex<MonitoredSubscription>();
  return {
    id: "NFAKESERVERID",
    name: "fake",
    options: { ...defaultOptions(), ...options },
    stats: new ServerStats(),
    clients: new Map(open.map((c) => [c.cid, c])),
    closed: { list: () => closed },
    accounts: new Map([["$G", { name: "$G", connections: open.length, sublist }]]),
    startTime: new Date(T0),
    port: 4222,
    subscriptionCount: 0,
    listenerUrls: () => ({ nats: ["nats://127.0.0.1:4222"] }),
  };
}
