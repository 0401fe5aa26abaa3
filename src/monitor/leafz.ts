import { goDuration, iso } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredLeaf, MonitoredServer } from "./types.js";

function leafInfo(l: MonitoredLeaf, subs: boolean): Record<string, unknown> {
  const s = l.stats;
  const info: Record<string, unknown> = {
    name: l.remoteName,
    is_spoke: l.spoke,
    account: l.account?.name ?? "",
    ip: l.transport.remoteAddress,
    port: l.transport.remotePort,
    rtt: goDuration(l.rttMs),
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    subscriptions: l.subCount,
  };
  // nats-server lists subjects only (a queue subscription's group is not shown), and omits an empty list.
  if (subs && l.subCount > 0) info.subscriptions_list = l.remoteSubjects().map((k) => k.split(" ")[0]);
  // Lattice declines leaf-node compression.
  info.compression = "off";
  return info;
}

/**
 * Leaf-node links (registered ones, in both roles), as nats-server's /leafz; `acc` keeps one account's.
 * Without any, `leafs` is null, as nats-server 2.9 marshals its empty list.
 */
export function leafz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const subs = decodeBool(q, "subs");
  const acc = q.get("acc") ?? "";
  const leafs: Record<string, unknown>[] = [];
  for (const l of server.leafnodes?.connections ?? []) {
    if (!l.registered) continue;
    if (acc !== "" && l.account?.name !== acc) continue;
    leafs.push(leafInfo(l, subs));
  }
  return {
    server_id: server.id,
    now: iso(now),
    leafnodes: leafs.length,
    leafs: leafs.length > 0 ? leafs : null,
  };
}
