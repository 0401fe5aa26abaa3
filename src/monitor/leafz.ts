import { iso } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredServer } from "./types.js";

/** Leaf nodes: none. `leafs` is null, exactly as nats-server marshals its empty list. */
export function leafz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  decodeBool(q, "subs");
  return { server_id: server.id, now: iso(now), leafnodes: 0, leafs: null };
}
