/**
 * The `cluster { }`, `gateway { }` and `leafnodes { }` (alias `leaf`) blocks, and the checks that need the
 * whole ServerOptions. Keys and aliases follow nats-server's opts.go; unknown keys warn (as Lattice does at
 * the top level) where nats-server refuses them, values of the wrong type throw an OptionsError naming the
 * option. The --cluster/--routes/... flags arrive here as a partial `cluster` block applied on top of the
 * config file's, so every decoder takes the options decoded so far.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { isValidUserNkey } from "../auth/authenticator.js";
import { nkeys } from "../auth/lazy-libs.js";
import type { PermissionRules } from "../auth/types.js";
import {
  type ClusterOptions,
  DEFAULT_ROUTE_POOL_SIZE,
  defaultClusterOptions,
  defaultGatewayOptions,
  defaultLeafNodeOptions,
  type GatewayOptions,
  type LeafNodeOptions,
  type LeafNodeUser,
  type LeafRemote,
  type RemoteGateway,
  type RoutePermissions,
  type ServerLinkAuth,
} from "../cluster/options.js";
import type { ServerOptions } from "../server/options.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";
import { loadTlsFiles, TlsConfigError, type TlsOptions, tlsOptionsFromConfig } from "../tls/index.js";
import {
  asBool,
  asDuration,
  asInt,
  asList,
  asSeconds,
  asString,
  asStringList,
  type BlockEntry,
  blockEntries,
  describeValue,
  isMap,
  OptionsError,
  parseListen,
  unknownField,
  type Warn,
} from "./decode.js";

/** nats-server caps the route ping interval (routeMaxPingInterval). */
const ROUTE_MAX_PING_INTERVAL_MS = 30_000;

/** Keys nats-server knows that change nothing in this release: accepted with a warning. */
function noEffect(e: BlockEntry, warn: Warn): void {
  warn(`${e.field} is accepted but has no effect in this release`);
}

function tlsFrom(v: unknown, warn: Warn, field: string): TlsOptions {
  try {
    return tlsOptionsFromConfig(v, warn, field);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new OptionsError(err.message);
    throw err;
  }
}

/**
 * Route and gateway TLS: nats-server requires and verifies the peer's certificate on these links whatever
 * `verify` says (getTLSConfig), so the options say so too.
 */
function peerTlsFrom(v: unknown, warn: Warn, field: string): TlsOptions {
  const tls = tlsFrom(v, warn, field);
  tls.verify = true;
  return tls;
}

const CERT_KEYS = new Set(["cert_file", "key_file", "certs", "certificates"]);

/**
 * A leaf remote's `tls { }`: this side dials, so like nats-server (parseTLS in client context) the block
 * may leave out a certificate (`tls { ca_file: ... }`, or `tls {}` to just require TLS).
 */
function dialTlsFrom(v: unknown, warn: Warn, field: string): TlsOptions {
  if (!isMap(v) || Object.keys(v).some((k) => CERT_KEYS.has(k.toLowerCase()))) return tlsFrom(v, warn, field);
  // The shared decoder insists on a certificate; give it empty names and take them away again.
  const tls = tlsFrom({ ...v, cert_file: "", key_file: "" }, warn, field);
  tls.certFile = undefined;
  tls.keyFile = undefined;
  return tls;
}

/** A route, gateway or leaf URL; refused when it does not parse or names no host and port. */
function linkUrl(v: unknown, field: string, kind: string): string {
  const raw = asString(v, field).trim();
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new OptionsError(`${field}: error parsing ${kind} url ${JSON.stringify(raw)}`);
  }
  if (u.hostname === "") {
    throw new OptionsError(`${field}: ${kind} url ${JSON.stringify(raw)} has no host`);
  }
  return raw;
}

/** Route/gateway URL lists: duplicates are dropped with nats-server's warning. */
function urlList(v: unknown, field: string, kind: string, warn: Warn, needPort: boolean): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  asList(v, field).forEach((x, i) => {
    const url = linkUrl(x, `${field}[${i}]`, kind);
    if (seen.has(url)) {
      warn(`${field}: duplicate ${kind} entry ${JSON.stringify(url)} detected: ignored`);
      return;
    }
    seen.add(url);
    if (needPort && new URL(url).port === "") {
      throw new OptionsError(`${field}[${i}]: ${kind} url ${JSON.stringify(url)} has no port`);
    }
    out.push(url);
  });
  return out;
}

function checkSubjects(list: string[], field: string): string[] {
  for (const s of list) {
    if (!isValidSubscribeSubject(s))
      throw new OptionsError(`${field}: subject "${s}" is not a valid subject`);
  }
  return list;
}

/** One direction of route permissions: a subject, a list, or `{ allow, deny }`. */
function permissionRules(v: unknown, field: string): PermissionRules | undefined {
  if (!isMap(v)) return { allow: checkSubjects(asStringList(v, field), field) };
  const rules: PermissionRules = {};
  for (const e of blockEntries(v, field)) {
    if (e.key === "allow") rules.allow = checkSubjects(asStringList(e.value, e.field), e.field);
    else if (e.key === "deny") rules.deny = checkSubjects(asStringList(e.value, e.field), e.field);
    else if (!e.definesVariable) {
      throw new OptionsError(`${e.field}: unknown field, only "allow" or "deny" are permitted`);
    }
  }
  return rules.allow === undefined && rules.deny === undefined ? undefined : rules;
}

/** `permissions { import, export }` (also `publish`/`subscribe`, as nats-server reads them). */
function routePermissions(v: unknown, field: string, warn: Warn): RoutePermissions {
  const p: RoutePermissions = {};
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "import":
      case "pub":
      case "publish":
        p.import = permissionRules(e.value, e.field);
        break;
      case "export":
      case "sub":
      case "subscribe":
        p.export = permissionRules(e.value, e.field);
        break;
      case "allow_responses":
      case "publish_allow_responses":
        throw new OptionsError(`${e.field}: cluster permissions do not support dynamic responses`);
      default:
        unknownField(e, warn);
    }
  }
  return p;
}

function authTimeout(e: BlockEntry, warn: Warn): number {
  const ms = asSeconds(e.value, e.field);
  if (ms > 60_000) {
    warn(
      `${e.field}: timeout of ${ms / 1000} seconds is high, consider keeping it under 60 seconds ` +
        "(an unquoted 1m is a million: write '1m')",
    );
  }
  return ms;
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
  const auth: ServerLinkAuth = { ...existing };
  let permissions: RoutePermissions | undefined;
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "user":
      case "username":
        auth.user = asString(e.value, e.field);
        break;
      case "pass":
      case "password":
        auth.password = asString(e.value, e.field);
        break;
      case "timeout":
        auth.timeoutMs = authTimeout(e, warn);
        break;
      case "token":
        throw new OptionsError(`${e.field}: ${what} authorization does not support tokens`);
      case "users":
        throw new OptionsError(`${e.field}: ${what} authorization does not allow multiple users`);
      case "auth_callout":
      case "auth_hook":
        throw new OptionsError(`${e.field}: ${what} authorization does not support callouts`);
      case "permissions":
      case "default_permissions":
      case "default_permission":
        if (what === "Cluster") {
          warn(`${e.field}: setting "permissions" within cluster authorization block is deprecated`);
          permissions = routePermissions(e.value, e.field, warn);
        } else {
          noEffect(e, warn);
        }
        break;
      case "proxy_required":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  return { auth, permissions };
}

const COMPRESSION_MODES: Record<string, string> = {
  "not supported": "not supported",
  not_supported: "not supported",
  disabled: "off",
  off: "off",
  false: "off",
  accept: "accept",
  auto: "s2_auto",
  s2_auto: "s2_auto",
  fast: "s2_fast",
  s2_fast: "s2_fast",
  better: "s2_better",
  s2_better: "s2_better",
  best: "s2_best",
  s2_best: "s2_best",
};

/**
 * `compression`: a mode name, a boolean (`true` = `forOn`: s2_fast on routes, s2_auto on leaf links), or
 * `{ mode, rtt_thresholds }`. Returns the normalised mode name.
 */
function compressionFrom(v: unknown, field: string, forOn: string, warn: Warn): string {
  let mode: string;
  if (typeof v === "boolean") mode = v ? forOn : "off";
  else if (typeof v === "string") mode = v;
  else if (isMap(v)) {
    mode = "";
    for (const e of blockEntries(v, field)) {
      switch (e.key) {
        case "mode":
          mode = asString(e.value, e.field);
          break;
        case "rtt_thresholds":
        case "thresholds":
        case "rtts":
        case "rtt":
          // Checked for syntax only: Lattice does not compress, so the thresholds never apply.
          asList(e.value, e.field).forEach((d, i) => {
            if (typeof d !== "string") {
              throw new OptionsError(`${e.field}[${i}]: expected a duration string, got ${describeValue(d)}`);
            }
            asDuration(d, `${e.field}[${i}]`, warn);
          });
          break;
        default:
          unknownField(e, warn);
      }
    }
  } else {
    throw new OptionsError(`${field}: should be a boolean, a mode or a map, got ${describeValue(v)}`);
  }
  let m = mode.toLowerCase();
  if (m === "on" || m === "enabled" || m === "true") m = forOn;
  const normalised = COMPRESSION_MODES[m];
  if (normalised === undefined) throw new OptionsError(`${field}: unsupported compression mode "${mode}"`);
  return normalised;
}

function clusterListen(c: ClusterOptions | GatewayOptions | LeafNodeOptions, e: BlockEntry): void {
  const l = parseListen(e.value, e.field);
  if (l.host !== undefined) c.host = l.host;
  c.port = l.port;
}

/** `cluster { }` on top of `existing` (the config file's block when the flags are applied). */
export function clusterFrom(v: unknown, warn: Warn, existing?: ClusterOptions): ClusterOptions {
  const c: ClusterOptions = existing ?? defaultClusterOptions();
  let authPermissions: RoutePermissions | undefined;
  let topPermissions = false;
  for (const e of blockEntries(v, "cluster")) {
    switch (e.key) {
      case "name": {
        const name = asString(e.value, e.field);
        if (name.includes(" ")) throw new OptionsError(`${e.field}: cluster name cannot contain spaces`);
        c.name = name;
        break;
      }
      case "listen":
        clusterListen(c, e);
        break;
      case "host":
      case "net":
        c.host = asString(e.value, e.field);
        break;
      case "port":
        c.port = asInt(e.value, e.field);
        break;
      case "routes":
        c.routes = urlList(e.value, e.field, "route", warn, true);
        break;
      case "advertise":
      case "cluster_advertise":
        c.advertise = asString(e.value, e.field);
        break;
      case "no_advertise":
        c.noAdvertise = asBool(e.value, e.field);
        break;
      case "connect_retries":
        c.connectRetries = asInt(e.value, e.field);
        break;
      case "connect_backoff":
        c.connectBackoff = asBool(e.value, e.field);
        break;
      case "authorization": {
        const a = linkAuthorization(e.value, e.field, "Cluster", warn, c.authorization);
        c.authorization = a.auth;
        authPermissions = a.permissions;
        break;
      }
      case "tls":
        c.tls = peerTlsFrom(e.value, warn, e.field);
        break;
      case "permissions":
        c.permissions = routePermissions(e.value, e.field, warn);
        topPermissions = true;
        break;
      case "pool_size": {
        // 0 means the default, -1 turns pooling off (nats-server setBaselineOptions).
        const n = asInt(e.value, e.field);
        c.poolSize = n === 0 ? DEFAULT_ROUTE_POOL_SIZE : n;
        break;
      }
      case "accounts":
        c.accounts = asStringList(e.value, e.field);
        break;
      case "compression":
        c.compression = compressionFrom(e.value, e.field, "s2_fast", warn);
        break;
      case "ping_interval":
        c.pingIntervalMs = asDuration(e.value, e.field, warn);
        if (c.pingIntervalMs > ROUTE_MAX_PING_INTERVAL_MS) {
          warn(`${e.field}: will reset to 30s which is the max for routes`);
        }
        break;
      case "ping_max":
        c.pingMax = asInt(e.value, e.field);
        break;
      case "write_deadline":
        c.writeDeadlineMs = asDuration(e.value, e.field, warn);
        break;
      case "write_timeout":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  // The block's own `permissions` win over the deprecated ones inside `authorization`.
  if (authPermissions !== undefined && !topPermissions) c.permissions = authPermissions;
  return c;
}

function remoteGateway(v: unknown, field: string, warn: Warn): RemoteGateway {
  const g: RemoteGateway = { name: "", urls: [] };
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "name":
        g.name = asString(e.value, e.field);
        break;
      case "url":
        g.urls.push(linkUrl(e.value, e.field, "gateway"));
        break;
      case "urls":
        g.urls = urlList(e.value, e.field, "gateway", warn, false);
        break;
      case "tls":
        g.tls = peerTlsFrom(e.value, warn, e.field);
        break;
      default:
        unknownField(e, warn);
    }
  }
  return g;
}

/** `gateway { }`. */
export function gatewayFrom(v: unknown, warn: Warn, existing?: GatewayOptions): GatewayOptions {
  const g: GatewayOptions = existing ?? defaultGatewayOptions();
  for (const e of blockEntries(v, "gateway")) {
    switch (e.key) {
      case "name": {
        const name = asString(e.value, e.field);
        if (name.includes(" ")) throw new OptionsError(`${e.field}: gateway name cannot contain spaces`);
        g.name = name;
        break;
      }
      case "listen":
        clusterListen(g, e);
        break;
      case "host":
      case "net":
        g.host = asString(e.value, e.field);
        break;
      case "port":
        g.port = asInt(e.value, e.field);
        break;
      case "advertise":
      case "gateway_advertise":
        g.advertise = asString(e.value, e.field);
        break;
      case "authorization":
        g.authorization = linkAuthorization(e.value, e.field, "Gateway", warn, g.authorization).auth;
        break;
      case "tls":
        g.tls = peerTlsFrom(e.value, warn, e.field);
        break;
      case "gateways":
        g.gateways = asList(e.value, e.field).map((x, i) => remoteGateway(x, `${e.field}[${i}]`, warn));
        break;
      case "reject_unknown":
      case "reject_unknown_cluster":
        g.rejectUnknownCluster = asBool(e.value, e.field);
        break;
      case "connect_retries":
        g.connectRetries = asInt(e.value, e.field);
        break;
      case "connect_backoff":
        g.connectBackoff = asBool(e.value, e.field);
        break;
      case "write_deadline":
        g.writeDeadlineMs = asDuration(e.value, e.field, warn);
        break;
      case "write_timeout":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  return g;
}

function leafUser(v: unknown, field: string, warn: Warn): LeafNodeUser {
  const u: Partial<LeafNodeUser> = {};
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "user":
      case "username":
        u.user = asString(e.value, e.field);
        break;
      case "pass":
      case "password":
        u.password = asString(e.value, e.field);
        break;
      case "account":
        u.account = asString(e.value, e.field);
        break;
      case "proxy_required":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  if (u.user === undefined) throw new OptionsError(`${field}: a leaf node user needs "user"`);
  return u as LeafNodeUser;
}

type LeafAuth = NonNullable<LeafNodeOptions["authorization"]>;

/** The leaf-node listener's `authorization { }`: one user, an nkey, or a user list, bound to accounts. */
function leafAuthorization(v: unknown, field: string, warn: Warn): LeafAuth {
  const auth: LeafAuth = {};
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "user":
      case "username":
        auth.user = asString(e.value, e.field);
        break;
      case "pass":
      case "password":
        auth.password = asString(e.value, e.field);
        break;
      case "nkey": {
        const nk = asString(e.value, e.field);
        if (!isValidUserNkey(nk)) {
          throw new OptionsError(`${e.field}: not a valid public nkey for leafnode authorization`);
        }
        auth.nkey = nk;
        break;
      }
      case "timeout":
        auth.timeoutMs = authTimeout(e, warn);
        break;
      case "account":
        auth.account = asString(e.value, e.field);
        break;
      case "users":
        auth.users = asList(e.value, e.field).map((u, i) => leafUser(u, `${e.field}[${i}]`, warn));
        break;
      case "token":
        throw new OptionsError(`${e.field}: leaf node authorization does not support tokens`);
      case "proxy_required":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  if (auth.users !== undefined && auth.users.length > 0) {
    if (auth.user !== undefined) {
      throw new OptionsError(`${field}: can not have a single user/pass and a users array`);
    }
    if (auth.nkey !== undefined)
      throw new OptionsError(`${field}: can not have a single nkey and a users array`);
    const seen = new Set<string>();
    for (const u of auth.users) {
      if (seen.has(u.user)) {
        throw new OptionsError(`${field}: duplicate user "${u.user}" detected in leafnode authorization`);
      }
      seen.add(u.user);
    }
  }
  return auth;
}

function filePath(p: string, configDir: string): string {
  if (p === "~" || p.startsWith("~/")) return homedir() + p.slice(1);
  return resolve(configDir, p);
}

function isUserSeed(seed: string): boolean {
  if (!seed.startsWith("SU")) return false;
  try {
    return nkeys().fromSeed(new TextEncoder().encode(seed)).getPublicKey().startsWith("U");
  } catch {
    return false;
  }
}

function leafRemote(v: unknown, field: string, warn: Warn, configDir: string): LeafRemote {
  const r: LeafRemote = {
    urls: [],
    denyImports: [],
    denyExports: [],
    wsCompression: false,
    hub: false,
    noRandomize: false,
    disabled: false,
  };
  for (const e of blockEntries(v, field)) {
    switch (e.key) {
      case "url":
      case "urls":
        r.urls =
          typeof e.value === "string"
            ? [linkUrl(e.value, e.field, "leafnode")]
            : urlList(e.value, e.field, "leafnode", warn, false);
        break;
      case "account":
      case "local":
        r.account = asString(e.value, e.field);
        break;
      case "credentials":
      case "creds":
        if (r.nkey !== undefined) {
          throw new OptionsError(`${e.field}: remote leafnode can not have both creds and nkey defined`);
        }
        r.credentials = filePath(asString(e.value, e.field), configDir);
        break;
      case "nkey":
      case "seed": {
        const seed = asString(e.value, e.field);
        if (!isUserSeed(seed))
          throw new OptionsError(`${e.field}: remote leafnode nkey is not a valid user seed`);
        if (r.credentials !== undefined) {
          throw new OptionsError(`${e.field}: remote leafnode can not have both creds and nkey defined`);
        }
        r.nkey = seed;
        break;
      }
      case "tls":
        r.tls = dialTlsFrom(e.value, warn, e.field);
        break;
      case "deny_imports":
      case "deny_import":
        r.denyImports = checkSubjects(asStringList(e.value, e.field), e.field);
        break;
      case "deny_exports":
      case "deny_export":
        r.denyExports = checkSubjects(asStringList(e.value, e.field), e.field);
        break;
      case "ws_compression":
      case "ws_compress":
      case "websocket_compression":
      case "websocket_compress":
        r.wsCompression = asBool(e.value, e.field);
        break;
      case "ws_no_masking":
      case "websocket_no_masking":
        r.wsNoMasking = asBool(e.value, e.field);
        break;
      case "hub":
        r.hub = asBool(e.value, e.field);
        break;
      case "no_randomize":
      case "dont_randomize":
        r.noRandomize = asBool(e.value, e.field);
        break;
      case "first_info_timeout":
        r.firstInfoTimeoutMs = asDuration(e.value, e.field, warn);
        break;
      case "dial_timeout":
        r.dialTimeoutMs = asDuration(e.value, e.field, warn);
        break;
      case "disabled":
        r.disabled = asBool(e.value, e.field);
        break;
      case "compression":
        r.compression = compressionFrom(e.value, e.field, "s2_auto", warn);
        break;
      case "isolate_leafnode_interest":
      case "isolate":
      case "request_isolation":
      case "jetstream_cluster_migrate":
      case "js_cluster_migrate":
      case "proxy":
      case "ignore_discovered_servers":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  if (r.urls.length === 0) throw new OptionsError(`${field}: a remote needs "url" or "urls"`);
  const ws = r.urls.map((u) => /^wss?:/i.test(u));
  if (ws.some((x) => x !== ws[0])) {
    throw new OptionsError(`${field}: a remote cannot have a mix of websocket and non-websocket urls`);
  }
  return r;
}

/** The remote's identity as nats-server compares remotes for duplicates: URLs, account, credentials. */
function remoteKey(r: LeafRemote): string {
  return JSON.stringify([r.urls, r.account ?? "$G", r.credentials ?? r.nkey ?? ""]);
}

function minVersion(v: unknown, field: string): string {
  const s = asString(v, field);
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(s);
  if (m === null) throw new OptionsError(`${field}: invalid leafnode's minimum version "${s}"`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 2 || (major === 2 && minor < 8)) {
    throw new OptionsError(`${field}: the minimum version should be at least 2.8.0`);
  }
  return s;
}

/** `leafnodes { }` (or `leaf { }`); relative credentials files are taken from `configDir`. */
export function leafNodesFrom(
  v: unknown,
  warn: Warn,
  configDir = process.cwd(),
  existing?: LeafNodeOptions,
  name = "leafnodes",
): LeafNodeOptions {
  const l: LeafNodeOptions = existing ?? defaultLeafNodeOptions();
  for (const e of blockEntries(v, name)) {
    switch (e.key) {
      case "listen":
        clusterListen(l, e);
        break;
      case "host":
      case "net":
        l.host = asString(e.value, e.field);
        break;
      case "port":
        l.port = asInt(e.value, e.field);
        break;
      case "advertise":
      case "leafnode_advertise":
        l.advertise = asString(e.value, e.field);
        break;
      case "no_advertise":
        l.noAdvertise = asBool(e.value, e.field);
        break;
      case "authorization":
        l.authorization = leafAuthorization(e.value, e.field, warn);
        break;
      case "tls":
        l.tls = tlsFrom(e.value, warn, e.field);
        break;
      case "remotes": {
        const remotes = asList(e.value, e.field).map((r, i) =>
          leafRemote(r, `${e.field}[${i}]`, warn, configDir),
        );
        const seen = new Set<string>();
        remotes.forEach((r, i) => {
          const key = remoteKey(r);
          if (seen.has(key))
            throw new OptionsError(`${e.field}[${i}]: duplicate remote ${r.urls.join(", ")}`);
          seen.add(key);
        });
        l.remotes = remotes;
        break;
      }
      case "reconnect":
      case "reconnect_delay":
      case "reconnect_interval":
        l.reconnectMs = asDuration(e.value, e.field, warn);
        break;
      case "compression":
        l.compression = compressionFrom(e.value, e.field, "s2_auto", warn);
        break;
      case "min_version":
      case "minimum_version":
        l.minVersion = minVersion(e.value, e.field);
        break;
      case "dial_timeout":
        l.dialTimeoutMs = asDuration(e.value, e.field, warn);
        break;
      case "write_deadline":
        l.writeDeadlineMs = asDuration(e.value, e.field, warn);
        break;
      case "isolate_leafnode_interest":
      case "isolate":
      case "write_timeout":
        noEffect(e, warn);
        break;
      default:
        unknownField(e, warn);
    }
  }
  // Port 0 is no listener, as when none is given.
  if (l.port === 0) l.port = undefined;
  return l;
}

/** Unreadable or mismatched certificate files refuse to start (and fail `-t`), as for client TLS. */
function loadLinkTls(tls: TlsOptions | undefined, where: string): void {
  if (tls === undefined) return;
  try {
    if (tls.certFile !== undefined || tls.certs.length > 0) loadTlsFiles(tls);
    else if (tls.caFile !== undefined) readFileSync(tls.caFile);
  } catch (err) {
    if (isErrnoException(err)) {
      const why = err.code === "ENOENT" ? "no such file or directory" : err.message;
      throw new OptionsError(`${where}: tls.ca_file: open ${tls.caFile}: ${why}`);
    }
    if (err instanceof TlsConfigError) throw new OptionsError(`${where}: ${err.message}`);
    throw err;
  }
}

function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string";
}

/** Is a route listener or an explicit route configured (i.e. does this server join a cluster)? */
export function clusterActive(c: ClusterOptions | undefined): boolean {
  return c !== undefined && (c.port !== 0 || c.routes.length > 0);
}

/** Cross-field rules of the cluster, gateway and leafnodes options (after accounts are known). */
export function validateClusterOptions(opts: ServerOptions): void {
  const c = opts.cluster;
  const g = opts.gateway;
  const l = opts.leafnodes;
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
  if (l !== undefined) {
    if (l.port !== undefined && (l.port < -1 || l.port > 65535)) {
      throw new OptionsError(`leafnodes.port: ${l.port} is out of range`);
    }
    if (l.port !== undefined) loadLinkTls(l.tls, "leafnodes");
    l.remotes.forEach((r, i) => {
      loadLinkTls(r.tls, `leafnodes.remotes[${i}]`);
    });
    checkLeafAccounts(opts, l);
  }
}

/** Without an operator, leaf-node accounts must be configured ones (or $G, or the implicit $SYS). */
function checkLeafAccounts(opts: ServerOptions, l: LeafNodeOptions): void {
  if (opts.operator !== undefined) return;
  const known = new Set(["$G", ...(opts.accounts ?? []).map((a) => a.name)]);
  if (opts.systemAccount === undefined && !opts.noSystemAccount) known.add("$SYS");
  const check = (acc: string | undefined, what: string) => {
    if (acc !== undefined && acc !== "" && !known.has(acc)) {
      throw new OptionsError(`cannot find local account "${acc}" specified in leafnode ${what}`);
    }
  };
  check(l.authorization?.account, "authorization");
  for (const u of l.authorization?.users ?? []) check(u.account, "authorization");
  for (const r of l.remotes) check(r.account, "remote");
}
