import { iso } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredServer } from "./types.js";

/** Routes: this server has no cluster port, so the true answer is none. */
export function routez(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  decodeBool(q, "subs");
  return { server_id: server.id, now: iso(now), num_routes: 0, routes: [] };
}
