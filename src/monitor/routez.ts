import { goDuration, iso, uptime } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredCluster, MonitoredRoute, MonitoredServer } from "./types.js";

/** `subs=detail` asks for the detail list; anything else is read as a boolean (nats-server's decodeSubs). */
function subsOption(q: URLSearchParams): "none" | "list" | "detail" {
  if ((q.get("subs") ?? "").toLowerCase() === "detail") return "detail";
  return decodeBool(q, "subs") ? "list" : "none";
}

/** A configured (explicit) route leads to this peer: dialled at its URL, or known to be behind one. */
function isConfigured(cluster: MonitoredCluster, route: MonitoredRoute): boolean {
  const id = route.remote?.server_id;
  for (const d of cluster.dialerStats?.() ?? []) {
    if (!d.explicit) continue;
    if (d.url === route.solicitedUrl || (id !== undefined && d.peerId === id)) return true;
  }
  return false;
}

function routeInfo(
  cluster: MonitoredCluster,
  r: MonitoredRoute,
  subs: "none" | "list" | "detail",
  now: number,
): Record<string, unknown> {
  const s = r.stats;
  const info: Record<string, unknown> = {
    rid: r.cid,
    remote_id: r.remote?.server_id ?? "",
    remote_name: r.remote?.server_name ?? "",
    did_solicit: r.solicited,
    is_configured: isConfigured(cluster, r),
    ip: r.transport.remoteAddress,
    port: r.transport.remotePort,
    start: iso(r.start),
    last_activity: iso(r.lastActivity),
    rtt: goDuration(r.rttMs),
    uptime: uptime(now - r.start.getTime()),
    idle: uptime(now - r.lastActivity),
    pending_size: r.pendingBytes,
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    subscriptions: r.subCount,
  };
  // As nats-server: the lists are left out when the peer has no interest (omitempty).
  if (subs !== "none" && r.subCount > 0) {
    if (subs === "detail") {
      const list: Record<string, unknown>[] = [];
      for (const { account, sub } of r.remoteSubscriptions()) {
        const d: Record<string, unknown> = { subject: sub.subject };
        if (sub.queue !== undefined) d.qgroup = sub.queue;
        // A route subscription's sid is its account, subject and queue, as nats-server keys them.
        d.sid = `${account} ${sub.sid}`;
        d.msgs = sub.delivered;
        if (sub.max > 0) d.max = sub.max;
        d.cid = r.cid;
        list.push(d);
      }
      info.subscriptions_list_detail = list;
    } else {
      const list: string[] = [];
      for (const { sub } of r.remoteSubscriptions()) list.push(sub.subject);
      info.subscriptions_list = list;
    }
  }
  // Lattice declines route compression, so every route runs uncompressed.
  info.compression = "off";
  return info;
}

/** Routes to the other servers of this cluster, as nats-server's /routez (2.11 fields). */
export function routez(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const subs = subsOption(q);
  const out: Record<string, unknown> = { server_id: server.id, server_name: server.name, now: iso(now) };
  const cluster = server.cluster;
  const perms = cluster?.config.permissions;
  if (perms?.import !== undefined) out.import = perms.import;
  if (perms?.export !== undefined) out.export = perms.export;
  const routes: Record<string, unknown>[] = [];
  if (cluster !== undefined) {
    const ms = now.getTime();
    for (const r of cluster.routes.values()) routes.push(routeInfo(cluster, r, subs, ms));
  }
  out.num_routes = routes.length;
  out.routes = routes;
  return out;
}
