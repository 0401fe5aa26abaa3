import type { GatewayOptions } from "../cluster/options.js";
import { connInfo } from "./connz.js";
import { iso } from "./format.js";
import { decodeBool } from "./params.js";
import type { MonitoredConnection, MonitoredServer } from "./types.js";

/** A gateway connection as /gatewayz reads it (src/cluster/gateway.ts). */
export interface MonitoredGatewayConnection extends MonitoredConnection {
  /** Subscriptions standing for the other cluster's interest (outbound connections). */
  readonly subCount: number;
  accountModes?(): Iterable<{
    account: string;
    mode: "optimistic" | "transitioning" | "interest-only";
    subs: number;
    queueSubs: number;
    noInterest: number;
  }>;
}

/** The gateways of a server (src/cluster/gateways.ts). */
export interface MonitoredGateways {
  readonly name: string;
  readonly port: number;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly config: GatewayOptions;
  outboundConnections(): Iterable<{
    name: string;
    configured: boolean;
    connection: MonitoredGatewayConnection;
  }>;
  inboundConnections(): Iterable<{ name: string; connection: MonitoredGatewayConnection }>;
}

/** The server's gateways, when it has any (read structurally: MonitoredServer does not name them). */
function gatewaysOf(server: MonitoredServer): MonitoredGateways | undefined {
  return (server as MonitoredServer & { gateways?: MonitoredGateways }).gateways;
}

/** nats-server's switch threshold (gatewayMaxRUnsubBeforeSwitch), reported per account. */
const INTEREST_ONLY_THRESHOLD = 1000;

const MODE_NAMES = {
  optimistic: "Optimistic",
  transitioning: "Transitioning",
  "interest-only": "Interest-Only",
} as const;

function connection(c: MonitoredGatewayConnection, now: number): Record<string, unknown> {
  const info = connInfo(c, now, { auth: false, subs: false, detail: false });
  info.subscriptions = c.subCount;
  return info;
}

function outboundAccounts(c: MonitoredGatewayConnection, accName: string): object[] {
  const out: object[] = [];
  for (const a of c.accountModes?.() ?? []) {
    if (accName !== "" && a.account !== accName) continue;
    const e: Record<string, unknown> = {
      name: a.account,
      interest_mode: MODE_NAMES[a.mode],
      interest_only_threshold: INTEREST_ONLY_THRESHOLD,
    };
    if (a.noInterest > 0) e.no_interest_count = a.noInterest;
    if (a.subs > 0) e.num_subs = a.subs;
    if (a.queueSubs > 0) e.num_queue_subs = a.queueSubs;
    out.push(e);
  }
  return out;
}

/**
 * Gateways: this server's outbound connection to each remote cluster (`configured`: from the config rather
 * than gossip) and its inbound connections grouped by remote cluster. `gw_name` keeps one remote gateway,
 * `accs` (or `acc_name`) adds the interest mode of each account of outbound connections. Without a gateway
 * both maps are empty and name/host/port are left out, as nats-server does.
 */
export function gatewayz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  let accs = decodeBool(q, "accs");
  const gwName = q.get("gw_name") ?? "";
  const accName = q.get("acc_name") ?? "";
  if (accName !== "") accs = true;
  const gw = gatewaysOf(server);
  if (gw === undefined)
    return { server_id: server.id, now: iso(now), outbound_gateways: {}, inbound_gateways: {} };
  const t = now.getTime();
  let outbound: Record<string, object> | null = {};
  for (const o of gw.outboundConnections()) {
    if (gwName !== "" && o.name !== gwName) continue;
    const e: Record<string, unknown> = { configured: o.configured, connection: connection(o.connection, t) };
    if (accs) {
      const list = outboundAccounts(o.connection, accName);
      if (list.length > 0) e.accounts = list;
    }
    outbound[o.name] = e;
  }
  // nats-server answers null when the named gateway has no outbound connection.
  if (gwName !== "" && Object.keys(outbound).length === 0) outbound = null;
  const inbound: Record<string, object[]> = {};
  for (const i of gw.inboundConnections()) {
    if (gwName !== "" && i.name !== gwName) continue;
    const list = inbound[i.name] ?? [];
    list.push({ configured: false, connection: connection(i.connection, t) });
    inbound[i.name] = list;
  }
  return {
    server_id: server.id,
    now: iso(now),
    name: gw.name,
    host: gw.advertisedHost,
    port: gw.advertisedPort,
    outbound_gateways: outbound,
    inbound_gateways: inbound,
  };
}

/** The `gateway` section of /varz (nats-server's GatewayOptsVarz); empty without a gateway. */
export function gatewayVarz(server: MonitoredServer): object {
  const gw = gatewaysOf(server);
  if (gw === undefined) return {};
  const c = gw.config;
  const out: Record<string, unknown> = { name: gw.name, host: c.host, port: gw.port };
  const authMs = c.authorization?.timeoutMs;
  out.auth_timeout =
    authMs !== undefined && authMs > 0 ? authMs / 1000 : c.tls !== undefined ? c.tls.timeoutMs / 1000 + 1 : 2;
  out.tls_timeout = (c.tls?.timeoutMs ?? 2000) / 1000;
  if (c.tls !== undefined) {
    out.tls_required = true;
    out.tls_verify = true;
  }
  if (c.advertise) out.advertise = c.advertise;
  if (c.connectRetries > 0) out.connect_retries = c.connectRetries;
  const remotes = c.gateways
    .filter((g) => g.name !== gw.name)
    .map((g) => {
      const e: Record<string, unknown> = { name: g.name };
      if (g.tls !== undefined) e.tls_timeout = g.tls.timeoutMs / 1000;
      e.urls = g.urls.map(urlHost);
      return e;
    });
  if (remotes.length > 0) out.gateways = remotes;
  if (c.rejectUnknownCluster) out.reject_unknown = true;
  return out;
}

function urlHost(url: string): string {
  try {
    return new URL(url.includes("://") ? url : `nats://${url}`).host;
  } catch {
    return url;
  }
}
