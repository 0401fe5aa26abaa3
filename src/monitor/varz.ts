import { availableParallelism } from "node:os";
import { DEFAULT_LEAFNODE_PORT } from "../cluster/options.js";
import { NATS_FEATURE_LEVEL, PROTOCOL_VERSION } from "../version.js";
import { iso, nanos, uptime } from "./format.js";
import { gatewayVarz } from "./gatewayz.js";
import { jetStreamState } from "./jsz.js";
import type { MonitoredServer } from "./types.js";

/** What /varz needs from the HTTP listener itself. */
export interface VarzExtras {
  httpPort: number;
  httpsPort?: number;
  httpReqStats: ReadonlyMap<string, number>;
  cpu: number;
}

/** Process CPU use in percent of one core over the time since the previous sample. */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastTime = performance.now();
  private value = 0;

  sample(): number {
    const now = performance.now();
    const elapsedMs = now - this.lastTime;
    // Very close calls would measure noise; keep the last figure instead.
    if (elapsedMs < 250) return this.value;
    const used = process.cpuUsage(this.lastUsage);
    this.value = Math.round(((used.user + used.system) / 1000 / elapsedMs) * 10000) / 100;
    this.lastUsage = process.cpuUsage();
    this.lastTime = now;
    return this.value;
  }
}

function portOf(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  const port = Number(new URL(url).port);
  return Number.isFinite(port) && port > 0 ? port : undefined;
}

function websocketVarz(server: MonitoredServer): object {
  const ws = server.options.websocket;
  if (ws === undefined) return {};
  const out: Record<string, unknown> = {
    host: ws.host,
    port: portOf(server.listenerUrls().websocket?.[0]) ?? ws.port,
  };
  if (ws.advertise) out.advertise = ws.advertise;
  if (ws.noAuthUser) out.no_auth_user = ws.noAuthUser;
  // nats-server reports the handshake timeout only when configured; 2s is its built-in default.
  if (ws.handshakeTimeoutMs !== 2000) out.handshake_timeout = nanos(ws.handshakeTimeoutMs);
  // Seconds, as the websocket authorization block gives it.
  if (ws.authorization?.timeoutMs) out.auth_timeout = ws.authorization.timeoutMs / 1000;
  if (ws.noTls) out.no_tls = true;
  if (!ws.noTls && ws.tls?.map) out.tls_map = true;
  if (ws.sameOrigin) out.same_origin = true;
  if (ws.allowedOrigins.length > 0) out.allowed_origins = ws.allowedOrigins;
  if (ws.compression) out.compression = true;
  return out;
}

/** `host:port` of a route or leaf URL, as nats-server lists configured URLs (credentials left out). */
function urlHost(url: string, defaultPort?: number): string {
  try {
    const u = new URL(url.includes("://") ? url : `nats://${url}`);
    return u.port === "" && defaultPort !== undefined ? `${u.host}:${defaultPort}` : u.host;
  } catch {
    return url;
  }
}

/** An `authorization { timeout }`, else 2 s, or the TLS timeout + 1 s with TLS (getDefaultAuthTimeout). */
function linkAuthTimeout(authMs: number | undefined, tls: { timeoutMs: number } | undefined): number {
  if (authMs !== undefined && authMs > 0) return authMs / 1000;
  return tls !== undefined ? tls.timeoutMs / 1000 + 1 : 2;
}

/** The `cluster` section: nats-server fills the timeouts only when a route listener is configured. */
function clusterVarz(server: MonitoredServer): object {
  const cluster = server.cluster;
  if (cluster === undefined) return {};
  const c = cluster.config;
  const out: Record<string, unknown> = { name: cluster.clusterName };
  if (cluster.port > 0) {
    out.addr = c.host;
    out.cluster_port = cluster.port;
    out.auth_timeout = linkAuthTimeout(c.authorization?.timeoutMs, c.tls);
  }
  if (c.routes.length > 0) out.urls = c.routes.map((u) => urlHost(u));
  if (cluster.port > 0) out.tls_timeout = (c.tls?.timeoutMs ?? 2000) / 1000;
  if (c.tls !== undefined) {
    out.tls_required = true;
    out.tls_verify = true;
  }
  if (c.poolSize !== 0) out.pool_size = c.poolSize;
  return out;
}

/** The `leaf` section: the listener (when there is one) and the remotes this server dials. */
function leafVarz(server: MonitoredServer): object {
  const leaf = server.leafnodes;
  if (leaf === undefined) return {};
  const l = leaf.config;
  const out: Record<string, unknown> = {};
  if (leaf.port > 0) {
    out.host = l.host;
    out.port = leaf.port;
    out.auth_timeout = linkAuthTimeout(l.authorization?.timeoutMs, l.tls);
    out.tls_timeout = (l.tls?.timeoutMs ?? 2000) / 1000;
    if (l.tls !== undefined) out.tls_required = true;
    if (l.tls?.verify) out.tls_verify = true;
  }
  if (l.remotes.length > 0) {
    out.remotes = l.remotes.map((r) => {
      const rv: Record<string, unknown> = { local_account: r.account ?? "$G" };
      if (r.tls !== undefined) rv.tls_timeout = r.tls.timeoutMs / 1000;
      rv.urls = r.urls.map((u) => urlHost(u, DEFAULT_LEAFNODE_PORT));
      if (r.denyImports.length > 0 || r.denyExports.length > 0) {
        const deny: Record<string, unknown> = {};
        if (r.denyExports.length > 0) deny.exports = r.denyExports;
        if (r.denyImports.length > 0) deny.imports = r.denyImports;
        rv.deny = deny;
      }
      return rv;
    });
  }
  return out;
}

/**
 * The client URLs of the whole cluster, as clients get them in INFO: nats-server fills them once peers have
 * told theirs (this server's first), unless the cluster is not advertised.
 */
function connectUrls(server: MonitoredServer): string[] | undefined {
  const cluster = server.cluster;
  if (cluster === undefined || cluster.config.noAdvertise) return undefined;
  const peers = cluster.peerConnectUrls();
  if (peers.length === 0) return undefined;
  const urls = new Set(server.lameDuck ? [] : (server.clientConnectUrls?.() ?? []));
  for (const u of peers) urls.add(u);
  return [...urls];
}

function registeredLeafs(server: MonitoredServer): number {
  let n = 0;
  for (const l of server.leafnodes?.connections ?? []) if (l.registered) n++;
  return n;
}

function jetStreamVarz(server: MonitoredServer): object {
  const js = jetStreamState(server);
  if (js === undefined) return {};
  const u = js.usage;
  const out: Record<string, unknown> = {
    config: js.config,
    stats: {
      memory: u.memory,
      storage: u.storage,
      reserved_memory: u.reserved_memory,
      reserved_storage: u.reserved_storage,
      accounts: u.accounts,
      ha_assets: u.ha_assets,
      api: u.api,
    },
  };
  if (js.meta !== undefined) out.meta = js.meta;
  return out;
}

export function varz(server: MonitoredServer, extras: VarzExtras, now: Date): object {
  const o = server.options;
  const s = server.stats;
  const v: Record<string, unknown> = {
    server_id: server.id,
    server_name: server.name,
    version: NATS_FEATURE_LEVEL,
    proto: PROTOCOL_VERSION,
    // nats-server names its Go runtime here; ours is Node.
    go: `node${process.versions.node}`,
    host: o.host,
    port: server.port,
  };
  if (server.authenticator?.advertiseRequired) v.auth_required = true;
  // As in INFO: allow_non_tls makes TLS optional, and then nats-server does not report it as required.
  if (o.tls && !o.allowNonTls) v.tls_required = true;
  if (o.tls?.verify) v.tls_verify = true;
  const urls = connectUrls(server);
  if (urls !== undefined) v.connect_urls = urls;
  v.max_connections = o.maxConnections;
  if (o.maxSubscriptions > 0) v.max_subscriptions = o.maxSubscriptions;
  Object.assign(v, {
    ping_interval: nanos(o.pingIntervalMs),
    ping_max: o.pingMax,
    http_host: o.httpHost,
    http_port: extras.httpPort,
    http_base_path: o.httpBasePath,
    https_port: extras.httpsPort ?? 0,
    // Without an explicit authorization timeout: 2 s, or the TLS timeout + 1 s with TLS.
    auth_timeout: (server.authenticator?.timeoutMs ?? (o.tls ? o.tls.timeoutMs + 1000 : 2000)) / 1000,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: clusterVarz(server),
    gateway: gatewayVarz(server),
    leaf: leafVarz(server),
    mqtt: {},
    websocket: websocketVarz(server),
    jetstream: jetStreamVarz(server),
    tls_timeout: (o.tls?.timeoutMs ?? 2000) / 1000,
    write_deadline: nanos(o.writeDeadlineMs),
    start: iso(server.startTime),
    now: iso(now),
    uptime: uptime(now.getTime() - server.startTime.getTime()),
    mem: process.memoryUsage.rss(),
    cores: availableParallelism(),
    // JavaScript runs on one thread, whatever the core count.
    gomaxprocs: 1,
    cpu: extras.cpu,
    connections: server.clients.size,
    total_connections: s.totalConnections,
    // One route per peer: the route and remote server counts are the same.
    routes: server.cluster?.routes.size ?? 0,
    remotes: server.cluster?.routes.size ?? 0,
    leafnodes: registeredLeafs(server),
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    slow_consumers: s.slowConsumers,
    // Newer nats-server releases (2.10+) report this too.
    stale_connections: s.staleConnections,
    subscriptions: server.subscriptionCount,
    http_req_stats: Object.fromEntries(extras.httpReqStats),
    // No reload yet: the configuration is the one loaded at start.
    config_load_time: iso(server.startTime),
  });
  if (o.tags.length > 0) v.tags = o.tags;
  return v;
}
