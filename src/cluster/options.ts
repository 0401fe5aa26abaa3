import type { PermissionRules, UserPermissions } from "../auth/types.js";
import type { TlsOptions } from "../tls/options.js";

// What the `cluster { }`, `gateway { }` and `leafnodes { }` blocks (and the --cluster/--routes... flags)
// configure. Durations are milliseconds. Produced by src/config/cluster-options.ts and leafnode-options.ts.

/** nats-server's route pool size when `pool_size` is absent or 0 (DEFAULT_ROUTE_POOL_SIZE). */
export const DEFAULT_ROUTE_POOL_SIZE = 3;
/** Port a leaf remote URL without one is dialled on (DEFAULT_LEAFNODE_PORT). */
export const DEFAULT_LEAFNODE_PORT = 7422;
/** Leaf remote reconnect interval (DEFAULT_LEAF_NODE_RECONNECT). */
export const DEFAULT_LEAF_RECONNECT_MS = 1000;
/** Listen host of the cluster, gateway and leaf-node listeners when only a port is given. */
export const DEFAULT_LINK_HOST = "0.0.0.0";

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
  /**
   * 0: no route listener, so no clustering (nats-server's rule: a `cluster` block without `listen`/`port`
   * neither accepts nor dials routes). -1 picks a free port.
   */
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
  /**
   * `compression`, normalised (`off`, `accept`, `s2_fast`, ...; `true` = `s2_fast`); unset = nats-server's
   * default `accept`. Lattice declines compression whatever this says ("off").
   */
  compression?: string;
  /** `ping_interval` (nats-server caps it at 30 s for routes). */
  pingIntervalMs?: number;
  pingMax?: number;
  writeDeadlineMs?: number;
  /** `connect_backoff`: back off between explicit route connect attempts. */
  connectBackoff?: boolean;
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
  /** 0: not given (a named gateway needs one); -1 picks a free port. */
  port: number;
  advertise?: string;
  gateways: RemoteGateway[];
  authorization?: ServerLinkAuth;
  tls?: TlsOptions;
  rejectUnknownCluster: boolean;
  connectRetries: number;
  connectBackoff?: boolean;
  writeDeadlineMs?: number;
}

/** A leaf-node user on the hub side: who may connect and to which account they are bound. */
export interface LeafNodeUser {
  user: string;
  password?: string;
  account?: string;
  /**
   * What the leaf may publish into the account and receive from it (a Lattice addition: nats-server takes
   * leaf permissions only from client users, accounts and JWTs).
   */
  permissions?: UserPermissions;
}

export interface LeafRemote {
  /** As written; one without a port is dialled on DEFAULT_LEAFNODE_PORT. */
  urls: string[];
  /** The local account this link binds (default the global account). */
  account?: string;
  /** A `.creds` file (user JWT + seed) presented to the hub. */
  credentials?: string;
  /** A user nkey seed (`SU...`) presented to the hub. */
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
  /** `compression`, normalised as ClusterOptions.compression (`true` = `s2_auto`); unset = `s2_auto`. */
  compression?: string;
  /** `ws_no_masking`: ask a websocket hub to accept unmasked frames. */
  wsNoMasking?: boolean;
  dialTimeoutMs?: number;
}

export interface LeafNodeOptions {
  host: string;
  /** undefined: no leaf-node listener (remotes only); -1 picks a free port. */
  port?: number;
  advertise?: string;
  noAdvertise: boolean;
  /** `nkey`: a user public key a spoke may authenticate with instead of user/password. */
  authorization?: ServerLinkAuth & { users?: LeafNodeUser[]; account?: string; nkey?: string };
  tls?: TlsOptions;
  remotes: LeafRemote[];
  /** Reconnect interval for remotes (default 1 s). */
  reconnectMs: number;
  /** Normalised as LeafRemote.compression; unset = `s2_auto`. */
  compression?: string;
  /** `min_version` a spoke must run (at least 2.8.0). */
  minVersion?: string;
  dialTimeoutMs?: number;
  writeDeadlineMs?: number;
}

export function defaultClusterOptions(): ClusterOptions {
  return {
    host: DEFAULT_LINK_HOST,
    port: 0,
    noAdvertise: false,
    routes: [],
    connectRetries: 0,
    poolSize: DEFAULT_ROUTE_POOL_SIZE,
    accounts: [],
  };
}

export function defaultGatewayOptions(): GatewayOptions {
  return {
    name: "",
    host: DEFAULT_LINK_HOST,
    port: 0,
    gateways: [],
    rejectUnknownCluster: false,
    connectRetries: 0,
  };
}

export function defaultLeafNodeOptions(): LeafNodeOptions {
  return {
    host: DEFAULT_LINK_HOST,
    noAdvertise: false,
    remotes: [],
    reconnectMs: DEFAULT_LEAF_RECONNECT_MS,
  };
}
