/**
 * The `leafnodes { }` block (alias `leaf`): the listener a spoke connects to, with its users bound to
 * accounts, and the `remotes` this server dials as a spoke. Keys and aliases follow nats-server's opts.go;
 * the keys shared with the cluster and gateway blocks are decoded in link-options.ts.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { isValidUserNkey } from "../auth/authenticator.js";
import { parsePermissions } from "../auth/config.js";
import { nkeys } from "../auth/lazy-libs.js";
import {
  defaultLeafNodeOptions,
  type LeafNodeOptions,
  type LeafNodeUser,
  type LeafRemote,
} from "../cluster/options.js";
import type { ServerOptions } from "../server/options.js";
import type { TlsOptions } from "../tls/index.js";
import {
  asBool,
  asDuration,
  asListOf,
  asString,
  assign,
  type BlockKeys,
  decodeBlock,
  isMap,
  noEffect,
  OptionsError,
  type Warn,
} from "./decode.js";
import {
  asSubjectList,
  authorizationKeys,
  compressionMode,
  linkUrl,
  listenerKeys,
  loadLinkTls,
  tlsFrom,
  USER_KEYS,
  urlList,
} from "./link-options.js";

const CERT_KEYS = new Set(["cert_file", "key_file", "certs", "certificates"]);

/**
 * A leaf remote's `tls { }`: this side dials, so like nats-server (parseTLS in client context) the block
 * may leave out a certificate (`tls { ca_file: ... }`, or `tls {}` to just require TLS).
 */
function dialTlsFrom(v: unknown, field: string, warn: Warn): TlsOptions {
  if (!isMap(v) || Object.keys(v).some((k) => CERT_KEYS.has(k.toLowerCase()))) return tlsFrom(v, field, warn);
  // The shared decoder insists on a certificate; give it empty names and take them away again.
  const tls = tlsFrom({ ...v, cert_file: "", key_file: "" }, field, warn);
  tls.certFile = undefined;
  tls.keyFile = undefined;
  return tls;
}

function leafUser(v: unknown, field: string, warn: Warn): LeafNodeUser {
  const u = decodeBlock<Partial<LeafNodeUser>>(v, field, {}, warn, {
    ...USER_KEYS,
    account: assign("account", asString),
    permissions: assign("permissions", parsePermissions),
  });
  if (u.user === undefined) throw new OptionsError(`${field}: a leaf node user needs "user"`);
  return u as LeafNodeUser;
}

type LeafAuth = NonNullable<LeafNodeOptions["authorization"]>;

const LEAF_AUTH_KEYS: BlockKeys<LeafAuth> = {
  ...authorizationKeys("leaf node"),
  nkey: assign("nkey", (v, field) => {
    const nk = asString(v, field);
    if (!isValidUserNkey(nk)) {
      throw new OptionsError(`${field}: not a valid public nkey for leafnode authorization`);
    }
    return nk;
  }),
  account: assign("account", asString),
  users: assign("users", (v, field, warn) => asListOf(v, field, warn, leafUser)),
};

/** The leaf-node listener's `authorization { }`: one user, an nkey, or a user list, bound to accounts. */
function leafAuthorization(v: unknown, field: string, warn: Warn): LeafAuth {
  const auth = decodeBlock<LeafAuth>(v, field, {}, warn, LEAF_AUTH_KEYS);
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

const CREDS_AND_NKEY = "remote leafnode can not have both creds and nkey defined";

/** The keys of a remote but `credentials`, whose relative paths need the config directory. */
const REMOTE_KEYS: BlockKeys<LeafRemote> = {
  "url|urls": assign("urls", (v, field, warn) =>
    typeof v === "string" ? [linkUrl(v, field, "leafnode")] : urlList(v, field, "leafnode", warn, false),
  ),
  "account|local": assign("account", asString),
  "nkey|seed": (r, e) => {
    const seed = asString(e.value, e.field);
    if (!isUserSeed(seed))
      throw new OptionsError(`${e.field}: remote leafnode nkey is not a valid user seed`);
    if (r.credentials !== undefined) throw new OptionsError(`${e.field}: ${CREDS_AND_NKEY}`);
    r.nkey = seed;
  },
  tls: assign("tls", dialTlsFrom),
  "deny_imports|deny_import": assign("denyImports", asSubjectList),
  "deny_exports|deny_export": assign("denyExports", asSubjectList),
  "ws_compression|ws_compress|websocket_compression|websocket_compress": assign("wsCompression", asBool),
  "ws_no_masking|websocket_no_masking": assign("wsNoMasking", asBool),
  hub: assign("hub", asBool),
  "no_randomize|dont_randomize": assign("noRandomize", asBool),
  first_info_timeout: assign("firstInfoTimeoutMs", asDuration),
  dial_timeout: assign("dialTimeoutMs", asDuration),
  disabled: assign("disabled", asBool),
  compression: assign("compression", compressionMode("s2_auto")),
  "isolate_leafnode_interest|isolate|request_isolation|jetstream_cluster_migrate|js_cluster_migrate|proxy|ignore_discovered_servers":
    noEffect,
};

function leafRemote(v: unknown, field: string, warn: Warn, configDir: string): LeafRemote {
  const empty: LeafRemote = {
    urls: [],
    denyImports: [],
    denyExports: [],
    wsCompression: false,
    hub: false,
    noRandomize: false,
    disabled: false,
  };
  const r = decodeBlock(v, field, empty, warn, {
    ...REMOTE_KEYS,
    "credentials|creds": (r, e) => {
      if (r.nkey !== undefined) throw new OptionsError(`${e.field}: ${CREDS_AND_NKEY}`);
      r.credentials = filePath(asString(e.value, e.field), configDir);
    },
  });
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

/** `remotes: [ ... ]`, refusing a remote that repeats an earlier one. */
function leafRemotes(v: unknown, field: string, warn: Warn, configDir: string): LeafRemote[] {
  const remotes = asListOf(v, field, warn, (r, f, w) => leafRemote(r, f, w, configDir));
  const seen = new Set<string>();
  remotes.forEach((r, i) => {
    const key = remoteKey(r);
    if (seen.has(key)) throw new OptionsError(`${field}[${i}]: duplicate remote ${r.urls.join(", ")}`);
    seen.add(key);
  });
  return remotes;
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

/** The keys of the block but `remotes`, whose relative credentials paths need the config directory. */
const LEAFNODE_KEYS: BlockKeys<LeafNodeOptions> = {
  ...listenerKeys("leafnode"),
  no_advertise: assign("noAdvertise", asBool),
  authorization: assign("authorization", leafAuthorization),
  tls: assign("tls", tlsFrom),
  "reconnect|reconnect_delay|reconnect_interval": assign("reconnectMs", asDuration),
  compression: assign("compression", compressionMode("s2_auto")),
  "min_version|minimum_version": assign("minVersion", minVersion),
  dial_timeout: assign("dialTimeoutMs", asDuration),
  "isolate_leafnode_interest|isolate": noEffect,
};

/** `leafnodes { }` (or `leaf { }`); relative credentials files are taken from `configDir`. */
export function leafNodesFrom(
  v: unknown,
  warn: Warn,
  configDir = process.cwd(),
  existing?: LeafNodeOptions,
  name = "leafnodes",
): LeafNodeOptions {
  const l = decodeBlock(v, name, existing ?? defaultLeafNodeOptions(), warn, {
    ...LEAFNODE_KEYS,
    remotes: assign("remotes", (v, field, warn) => leafRemotes(v, field, warn, configDir)),
  });
  // Port 0 is no listener, as when none is given.
  if (l.port === 0) l.port = undefined;
  return l;
}

/** Cross-field rules of the leafnodes options (after accounts are known). */
export function validateLeafNodeOptions(opts: ServerOptions, l: LeafNodeOptions): void {
  if (l.port !== undefined && (l.port < -1 || l.port > 65535)) {
    throw new OptionsError(`leafnodes.port: ${l.port} is out of range`);
  }
  if (l.port !== undefined) loadLinkTls(l.tls, "leafnodes");
  l.remotes.forEach((r, i) => {
    loadLinkTls(r.tls, `leafnodes.remotes[${i}]`);
  });
  checkLeafAccounts(opts, l);
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
