/**
 * The `cluster { }` and `gateway { }` blocks, and the checks that need the whole ServerOptions; the
 * `leafnodes { }` block (alias `leaf`) is in leafnode-options.ts and the keys the three share in
 * link-options.ts. Keys and aliases follow nats-server's opts.go; unknown keys warn (as Lattice does at the
 * top level) where nats-server refuses them, values of the wrong type throw an OptionsError naming the
 * option. The --cluster/--routes/... flags arrive here as a partial `cluster` block applied on top of the
 * config file's, so every decoder takes the options decoded so far.
 */
import type { PermissionRules } from "../auth/types.js";
import {
  type ClusterOptions,
  DEFAULT_ROUTE_POOL_SIZE,
  defaultClusterOptions,
  defaultGatewayOptions,
  type GatewayOptions,
  type RemoteGateway,
  type RoutePermissions,
  type ServerLinkAuth,
} from "../cluster/options.js";
import type { ServerOptions } from "../server/options.js";
import type { TlsOptions } from "../tls/index.js";
import {
  asBool,
  asDuration,
  asInt,
  asListOf,
  asString,
  asStringList,
  assign,
  type BlockKeys,
  blockEntries,
  decodeBlock,
  isMap,
  noEffect,
  OptionsError,
  refused,
  type Warn,
} from "./decode.js";
import { validateLeafNodeOptions } from "./leafnode-options.js";
import {
  asSubjectList,
  authorizationKeys,
  compressionMode,
  linkUrl,
  listenerKeys,
  loadLinkTls,
  tlsFrom,
  urlList,
} from "./link-options.js";

export { leafNodesFrom } from "./leafnode-options.js";

/** nats-server caps the route ping interval (routeMaxPingInterval). */
const ROUTE_MAX_PING_INTERVAL_MS = 30_000;

/**
 * Route and gateway TLS: nats-server requires and verifies the peer's certificate on these links whatever
 * `verify` says (getTLSConfig), so the options say so too.
 */
function peerTlsFrom(v: unknown, field: string, warn: Warn): TlsOptions {
  const tls = tlsFrom(v, field, warn);
  tls.verify = true;
  return tls;
}

/** One direction of route permissions: a subject, a list, or `{ allow, deny }`. */
function permissionRules(v: unknown, field: string): PermissionRules | undefined {
  if (!isMap(v)) return { allow: asSubjectList(v, field) };
  const rules: PermissionRules = {};
  for (const e of blockEntries(v, field)) {
    if (e.key === "allow") rules.allow = asSubjectList(e.value, e.field);
    else if (e.key === "deny") rules.deny = asSubjectList(e.value, e.field);
    else if (!e.definesVariable) {
      throw new OptionsError(`${e.field}: unknown field, only "allow" or "deny" are permitted`);
    }
  }
  return rules.allow === undefined && rules.deny === undefined ? undefined : rules;
}

/** `permissions { import, export }` (also `publish`/`subscribe`, as nats-server reads them). */
const ROUTE_PERMISSION_KEYS: BlockKeys<RoutePermissions> = {
  "import|pub|publish": assign("import", permissionRules),
  "export|sub|subscribe": assign("export", permissionRules),
  "allow_responses|publish_allow_responses": refused("cluster permissions do not support dynamic responses"),
};

function routePermissions(v: unknown, field: string, warn: Warn): RoutePermissions {
  return decodeBlock(v, field, {}, warn, ROUTE_PERMISSION_KEYS);
}

/**
 * The `authorization { }` of a route or gateway listener: one user/password and a timeout; nats-server
 * refuses tokens, user lists and callouts there. `false` (from a --cluster URL without credentials) drops
 * the user and password. Cluster `permissions` here are the deprecated spelling of cluster.permissions.
 */
function linkAuthorization(
  v: unknown,
  field: string,
  what: "Cluster" | "Gateway",
  warn: Warn,
  existing: ServerLinkAuth | undefined,
): { auth: ServerLinkAuth | undefined; permissions?: RoutePermissions } {
  if (v === false) {
    const timeoutMs = existing?.timeoutMs;
    return { auth: timeoutMs === undefined ? undefined : { timeoutMs } };
  }
  let permissions: RoutePermissions | undefined;
  const auth = decodeBlock<ServerLinkAuth>(v, field, { ...existing }, warn, {
    ...authorizationKeys(what),
    users: refused(`${what} authorization does not allow multiple users`),
    "auth_callout|auth_hook": refused(`${what} authorization does not support callouts`),
    "permissions|default_permissions|default_permission":
      what === "Cluster"
        ? (_, e) => {
            warn(`${e.field}: setting "permissions" within cluster authorization block is deprecated`);
            permissions = routePermissions(e.value, e.field, warn);
          }
        : noEffect,
  });
  return { auth, permissions };
}

/** What the route and gateway listeners have in common. */
type PeerListener = Pick<
  ClusterOptions,
  "name" | "host" | "port" | "advertise" | "writeDeadlineMs" | "connectRetries" | "connectBackoff" | "tls"
>;

/** The keys the `cluster` and `gateway` blocks read alike. */
function peerListenerKeys(block: "cluster" | "gateway"): BlockKeys<PeerListener> {
  return {
    ...listenerKeys(block),
    name: assign("name", (v, field) => {
      const name = asString(v, field);
      if (name.includes(" ")) throw new OptionsError(`${field}: ${block} name cannot contain spaces`);
      return name;
    }),
    connect_retries: assign("connectRetries", asInt),
    connect_backoff: assign("connectBackoff", asBool),
    tls: assign("tls", peerTlsFrom),
  };
}

/** The keys of `cluster { }` but `authorization` and `permissions`, which depend on each other. */
const CLUSTER_KEYS: BlockKeys<ClusterOptions> = {
  ...peerListenerKeys("cluster"),
  routes: assign("routes", (v, field, warn) => urlList(v, field, "route", warn, true)),
  no_advertise: assign("noAdvertise", asBool),
  // 0 means the default, -1 turns pooling off (nats-server setBaselineOptions).
  pool_size: assign("poolSize", (v, field) => {
    const n = asInt(v, field);
    return n === 0 ? DEFAULT_ROUTE_POOL_SIZE : n;
  }),
  accounts: assign("accounts", asStringList),
  compression: assign("compression", compressionMode("s2_fast")),
  ping_interval: (c, e, warn) => {
    c.pingIntervalMs = asDuration(e.value, e.field, warn);
    if (c.pingIntervalMs > ROUTE_MAX_PING_INTERVAL_MS) {
      warn(`${e.field}: will reset to 30s which is the max for routes`);
    }
  },
  ping_max: assign("pingMax", asInt),
};

/** `cluster { }` on top of `existing` (the config file's block when the flags are applied). */
export function clusterFrom(v: unknown, warn: Warn, existing?: ClusterOptions): ClusterOptions {
  let authPermissions: RoutePermissions | undefined;
  let topPermissions = false;
  const c = decodeBlock(v, "cluster", existing ?? defaultClusterOptions(), warn, {
    ...CLUSTER_KEYS,
    authorization: (c, e) => {
      const a = linkAuthorization(e.value, e.field, "Cluster", warn, c.authorization);
      c.authorization = a.auth;
      authPermissions = a.permissions;
    },
    permissions: (c, e) => {
      c.permissions = routePermissions(e.value, e.field, warn);
      topPermissions = true;
    },
  });
  // The block's own `permissions` win over the deprecated ones inside `authorization`.
  if (authPermissions !== undefined && !topPermissions) c.permissions = authPermissions;
  return c;
}

const REMOTE_GATEWAY_KEYS: BlockKeys<RemoteGateway> = {
  name: assign("name", asString),
  url: (g, e) => {
    g.urls.push(linkUrl(e.value, e.field, "gateway"));
  },
  urls: assign("urls", (v, field, warn) => urlList(v, field, "gateway", warn, false)),
  tls: assign("tls", peerTlsFrom),
};

function remoteGateway(v: unknown, field: string, warn: Warn): RemoteGateway {
  return decodeBlock(v, field, { name: "", urls: [] }, warn, REMOTE_GATEWAY_KEYS);
}

const GATEWAY_KEYS: BlockKeys<GatewayOptions> = {
  ...peerListenerKeys("gateway"),
  authorization: (g, e, warn) => {
    g.authorization = linkAuthorization(e.value, e.field, "Gateway", warn, g.authorization).auth;
  },
  gateways: assign("gateways", (v, field, warn) => asListOf(v, field, warn, remoteGateway)),
  "reject_unknown|reject_unknown_cluster": assign("rejectUnknownCluster", asBool),
};

/** `gateway { }`. */
export function gatewayFrom(v: unknown, warn: Warn, existing?: GatewayOptions): GatewayOptions {
  return decodeBlock(v, "gateway", existing ?? defaultGatewayOptions(), warn, GATEWAY_KEYS);
}

/** Is a route listener or an explicit route configured (i.e. does this server join a cluster)? */
export function clusterActive(c: ClusterOptions | undefined): boolean {
  return c !== undefined && (c.port !== 0 || c.routes.length > 0);
}

/** Cross-field rules of the cluster, gateway and leafnodes options (after accounts are known). */
export function validateClusterOptions(opts: ServerOptions): void {
  const c = opts.cluster;
  const g = opts.gateway;
  if (opts.jetstream?.enabled && clusterActive(c)) {
    throw new OptionsError(
      "jetstream: JetStream in a cluster (routes) is not supported by this release; run JetStream on a " +
        "standalone server, or on a leaf node with its own JetStream domain",
    );
  }
  if (c !== undefined) {
    if (c.port < -1 || c.port > 65535) throw new OptionsError(`cluster.port: ${c.port} is out of range`);
    if (c.accounts.length > 0) {
      if (c.poolSize < 0) {
        throw new OptionsError("cluster.pool_size: cannot be negative if pinned accounts are specified");
      }
      const dup = c.accounts.find((a, i) => c.accounts.indexOf(a) !== i);
      if (dup !== undefined) {
        throw new OptionsError(
          `cluster.accounts: found duplicate account name "${dup}" in pinned accounts list`,
        );
      }
    }
    loadLinkTls(c.tls, "cluster");
  }
  if (g !== undefined && (g.name !== "" || g.port !== 0)) {
    if (g.name === "") throw new OptionsError("gateway has no name");
    if (g.port === 0) {
      throw new OptionsError(`gateway "${g.name}" has no port specified (select -1 for random port)`);
    }
    if (g.port < -1 || g.port > 65535) throw new OptionsError(`gateway.port: ${g.port} is out of range`);
    g.gateways.forEach((r, i) => {
      if (r.name === "") throw new OptionsError(`gateway in the list ${i} has no name`);
      if (r.urls.length === 0) throw new OptionsError(`gateway "${r.name}" has no URL`);
      loadLinkTls(r.tls, `gateway.gateways[${i}]`);
    });
    // The gateway names the cluster: a different cluster name is a conflict, none takes the gateway's.
    if (c?.name !== undefined && c.name !== g.name) {
      throw new OptionsError(
        `cluster name conflicts between cluster and gateway definitions ("${c.name}" and "${g.name}")`,
      );
    }
    if (c !== undefined) c.name = g.name;
    loadLinkTls(g.tls, "gateway");
  }
  if (opts.leafnodes !== undefined) validateLeafNodeOptions(opts, opts.leafnodes);
}
