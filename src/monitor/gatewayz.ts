import { iso } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredServer } from "./types.js";

/** Gateways: none are configured or accepted, so both maps are empty (name/host/port appear only with one). */
export function gatewayz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  decodeBool(q, "accs");
  return { server_id: server.id, now: iso(now), outbound_gateways: {}, inbound_gateways: {} };
}
