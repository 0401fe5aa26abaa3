// The JSON a route carries in INFO and CONNECT (route.go's Info and connectInfo fields that Lattice reads
// or sends). Unknown fields from newer peers are ignored.

export interface RouteInfo {
  server_id?: string;
  server_name?: string;
  version?: string;
  host?: string;
  port?: number;
  proto?: number;
  headers?: boolean;
  max_payload?: number;
  jetstream?: boolean;
  cluster?: string;
  cluster_dynamic?: boolean;
  /** `nats-route://host:port/` the peer can be dialled at (set when gossiped or advertised). */
  ip?: string;
  connect_urls?: string[];
  ws_connect_urls?: string[];
  leafnode_urls?: string[];
  /** The peer's gateway URL (`host:port`), when it has a gateway. */
  gateway_url?: string;
  /** A gateway INFO forwarded over the route (`gateway_cmd` 1): a remote cluster to connect to. */
  gateway?: string;
  gateway_urls?: string[];
  gateway_cmd?: number;
  auth_required?: boolean;
  tls_required?: boolean;
  /** The peer entered lame-duck mode. */
  ldm?: boolean;
  lnoc?: boolean;
  lnocu?: boolean;
  route_pool_size?: number;
  route_pool_idx?: number;
  /** A dedicated (pinned) route for one account: Lattice runs a single route per peer. */
  route_account?: string;
  gossip_mode?: number;
  nonce?: string;
  compression?: string;
  domain?: string;
}

export interface RouteConnectInfo {
  echo?: boolean;
  verbose?: boolean;
  pedantic?: boolean;
  user?: string;
  pass?: string;
  auth_token?: string;
  tls_required?: boolean;
  headers?: boolean;
  /** The peer's server id. */
  name?: string;
  cluster?: string;
  cluster_dynamic?: boolean;
  /** Set by gateways: a gateway must not connect to the route port. */
  gateway?: string;
  lnoc?: boolean;
}

/** Parse `nats-route://user:pass@host:port` (also nats://, tls://); throws with the URL named. */
export function parseRouteUrl(text: string): {
  host: string;
  port: number;
  user?: string;
  pass?: string;
  url: string;
} {
  let u: URL;
  try {
    u = new URL(text.includes("://") ? text : `nats-route://${text}`);
  } catch {
    throw new Error(`invalid route URL "${text}"`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? 6222 : Number(u.port);
  if (host === "" || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`invalid route URL "${text}"`);
  return {
    host,
    port,
    user: u.username === "" ? undefined : decodeURIComponent(u.username),
    pass: u.password === "" ? undefined : decodeURIComponent(u.password),
    url: `nats-route://${host.includes(":") ? `[${host}]` : host}:${port}`,
  };
}
