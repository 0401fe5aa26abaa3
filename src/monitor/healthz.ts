import { decodeBool } from "./params.js";
import type { EndpointResult, MonitoredServer } from "./types.js";

/**
 * `{"status":"ok"}`, or 503 with the first problem. Until a JetStream engine is attached there is nothing
 * of JetStream's to check, which nats-server also answers with ok (no assets to wait for). Like
 * nats-server the body is compact JSON.
 */
export function healthz(server: MonitoredServer, q: URLSearchParams): EndpointResult {
  const jsEnabledOnly = decodeBool(q, "js-enabled-only");
  const jsServerOnly = decodeBool(q, "js-server-only");
  const js = server.options.jetstream?.enabled ? server.jetstreamMonitor : undefined;
  const errors = js?.healthErrors?.({ jsEnabledOnly, jsServerOnly }) ?? [];
  if (errors.length > 0) {
    return { status: 503, compact: true, body: { status: "unavailable", error: errors[0] } };
  }
  return { compact: true, body: { status: "ok" } };
}
