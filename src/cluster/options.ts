import type { PermissionRules } from "../auth/types.js";
import type { TlsOptions } from "../tls/options.js";

// What the `cluster { }`, `gateway { }` and `leafnodes { }` blocks (and the --cluster/--routes... flags)
// configure. Durations are milliseconds. Produced by src/config/cluster-options.ts.

/** Credentials a listener requires from connecting servers, or a dialer presents (`authorization { }`). */
export interface ServerLinkAuth {
  user?: string;
  password?: string;
  token?: string;
  /** How long an accepted link may take to authenticate. */
  timeoutMs?: number;
}

/** Route `permissions { import, export }`: what a peer may send us / what we send it. */
export interface RoutePermissions {
  import?: PermissionRules;
  export?: PermissionRules;
}

export interface ClusterOptions {
  /** The cluster's name; routes between servers of different names are refused. Unset: a dynamic name. */
  name?: string;
  host: string;
  /** -1 picks a free port. */
  port: number;
  /** `host:port` advertised to peers instead of the listen address. */
  advertise?: string;
  /** Do not tell clients about the other servers (`connect_urls`). */
  noAdvertise: boolean;
  /** Explicit routes: `nats-route://[user:pass@]host:port` URLs dialled at start. */
  routes: string[];
  /** Dial attempts for an explicit route before giving up; 0 = retry forever. */
  connectRetries: number;
  authorization?: ServerLinkAuth;
  tls?: TlsOptions;
  permissions?: RoutePermissions;
  /** Route connections per peer (2.10+ pooling); Lattice runs one, so this is accepted and recorded. */
  poolSize: number;
  /** Accounts pinned to dedicated routes (2.10+); recorded, carried on the shared route. */
  accounts: string[];
  /** `compression`: Lattice declines compression whatever this says ("off"). */
  compression?: string;
}

export interface RemoteGateway {
  name: string;
  urls: string[];
  tls?: TlsOptions;
}

export interface GatewayOptions {
  /** The gateway (cluster) name; must equal `cluster.name` when both are set. */
  name: string;
  host: string;
  port: number;
  advertise?: string;
  gateways: RemoteGateway[];
  authorization?: ServerLinkAuth;
  tls?: TlsOptions;
  rejectUnknownCluster: boolean;
  connectRetries: number;
}

/** A leaf-node user on the hub side: who may connect and to which account they are bound. */
export interface LeafNodeUser {
  user: string;
  password?: string;
  account?: string;
}

export interface LeafRemote {
  urls: string[];
  /** The local account this link binds (default the global account). */
  account?: string;
  /** A `.creds` file (user JWT + seed) presented to the hub. */
  credentials?: string;
  /** An nkey seed file or seed presented to the hub. */
  nkey?: string;
  tls?: TlsOptions;
  denyImports: string[];
  denyExports: string[];
  wsCompression: boolean;
  /** This side acts as the hub of the link although it dials. */
  hub: boolean;
  noRandomize: boolean;
  firstInfoTimeoutMs?: number;
  disabled: boolean;
}

export interface LeafNodeOptions {
  host: string;
  /** undefined: no leaf-node listener (remotes only); -1 picks a free port. */
  port?: number;
  advertise?: string;
  noAdvertise: boolean;
  authorization?: ServerLinkAuth & { users?: LeafNodeUser[]; account?: string };
  tls?: TlsOptions;
  remotes: LeafRemote[];
  /** Reconnect interval for remotes (default 1 s). */
  reconnectMs: number;
  compression?: string;
}
