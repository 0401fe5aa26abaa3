import type { MultiTenancyOptions } from "../accounts/types.js";
import type { AuthOptions } from "../auth/types.js";
import type { ClusterOptions, GatewayOptions, LeafNodeOptions } from "../cluster/options.js";
import type { TlsOptions } from "../tls/options.js";

// Everything a server can be told, in one shape: the config file, the command-line flags and the embedding
// API all produce a ServerOptions. Durations are milliseconds, sizes bytes.

export interface JetStreamOptions {
  enabled: boolean;
  storeDir: string;
  maxMemory: number;
  maxStore: number;
  domain?: string;
  /** 0 = fsync every write batch before acknowledging (the default); >0 relaxes durability. */
  syncIntervalMs: number;
}

export interface WebSocketOptions {
  host: string;
  port: number;
  noTls: boolean;
  sameOrigin: boolean;
  allowedOrigins: string[];
  compression: boolean;
  handshakeTimeoutMs: number;
  advertise?: string;
  noAuthUser?: string;
  authorization?: AuthOptions;
  /** `tls { }`: wss:// (ignored with no_tls). */
  tls?: TlsOptions;
}

/** `accounts`, `system_account`, `operator`, `resolver` ... come from MultiTenancyOptions. */
export interface ServerOptions extends MultiTenancyOptions {
  host: string;
  /** -1 picks a free port. */
  port: number;
  serverName?: string;
  clientAdvertise?: string;
  tags: string[];
  /** Monitoring; undefined keeps it off, -1 picks a free port. */
  httpHost: string;
  httpPort?: number;
  /** Monitoring over HTTPS with the client `tls { }` certificate; excludes httpPort. */
  httpsPort?: number;
  httpBasePath: string;
  maxConnections: number;
  maxControlLine: number;
  maxPayload: number;
  maxPending: number;
  maxSubscriptions: number;
  maxClosedClients: number;
  pingIntervalMs: number;
  pingMax: number;
  writeDeadlineMs: number;
  lameDuckDurationMs: number;
  lameDuckGracePeriodMs: number;
  noHeaderSupport: boolean;
  authorization?: AuthOptions;
  noAuthUser?: string;
  debug: boolean;
  trace: boolean;
  logtime: boolean;
  logFile?: string;
  /** Embedding: log nothing below errors. */
  quiet: boolean;
  pidFile?: string;
  portsFileDir?: string;
  jetstream?: JetStreamOptions;
  websocket?: WebSocketOptions;
  /** Client TLS (`tls { }`, --tls*); undefined = plain TCP only. */
  tls?: TlsOptions;
  /** allow_non_tls: with `tls`, clients may also stay in plain text. */
  allowNonTls: boolean;
  /** `cluster { }`: routes to the other servers of this cluster. */
  cluster?: ClusterOptions;
  /** `gateway { }`: links to other clusters (a supercluster). */
  gateway?: GatewayOptions;
  /** `leafnodes { }`: a leaf-node listener (hub) and/or remotes this server dials (spoke). */
  leafnodes?: LeafNodeOptions;
  /** Where the options came from, for -t and reload. */
  configFile?: string;
}

export const DEFAULT_PORT = 4222;
export const DEFAULT_HTTP_PORT = 8222;

export function defaultOptions(): ServerOptions {
  return {
    host: "0.0.0.0",
    port: DEFAULT_PORT,
    tags: [],
    httpHost: "0.0.0.0",
    httpBasePath: "",
    maxConnections: 64 * 1024,
    maxControlLine: 4096,
    maxPayload: 1024 * 1024,
    maxPending: 64 * 1024 * 1024,
    maxSubscriptions: 0,
    maxClosedClients: 10_000,
    pingIntervalMs: 2 * 60_000,
    pingMax: 2,
    writeDeadlineMs: 10_000,
    lameDuckDurationMs: 2 * 60_000,
    lameDuckGracePeriodMs: 10_000,
    noHeaderSupport: false,
    allowNonTls: false,
    debug: false,
    trace: false,
    logtime: true,
    quiet: false,
  };
}

export function defaultJetStreamOptions(): JetStreamOptions {
  return {
    enabled: true,
    storeDir: "./data",
    maxMemory: -1,
    maxStore: -1,
    syncIntervalMs: 0,
  };
}

export function defaultWebSocketOptions(): WebSocketOptions {
  return {
    host: "0.0.0.0",
    port: 8080,
    noTls: false,
    sameOrigin: false,
    allowedOrigins: [],
    compression: false,
    handshakeTimeoutMs: 2000,
  };
}
