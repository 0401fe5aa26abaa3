// Decoding of NATS JWTs (operator, account, user, activation) into checked, typed claims. The signature is
// verified by @nats-io/jwt's decode (ed25519 through @nats-io/nkeys); this file only reads the claims, fills
// in what nats-server 2.9 assumes for absent fields, and refuses shapes it could not act on.
import { type MappingConfig, mappingsFromClaims } from "../subjects/mapping.js";
import { jwt, nkeys } from "./lazy-libs.js";
import type { PermissionRules, ResponseLimits, UserPermissions } from "./types.js";

/** Larger tokens are refused before any decoding work. */
export const MAX_JWT_LENGTH = 256 * 1024;

/** -1 in a limit means "no limit", as in the JWT format. */
export const NO_LIMIT = -1;

export class JwtError extends Error {}

export type KeyKind = "O" | "A" | "U";

/** Is `key` a well-formed public nkey of the given kind (`O` operator, `A` account, `U` user)? */
export function isPublicKey(key: unknown, kind: KeyKind): key is string {
  if (typeof key !== "string" || key.length !== 56 || key[0] !== kind) return false;
  try {
    return nkeys().fromPublic(key).getPublicKey() === key;
  } catch {
    return false;
  }
}

/** Claims common to every NATS JWT, after signature verification. */
export interface BaseClaims {
  /** The token itself. */
  readonly jwt: string;
  /** 1 (`alg: ed25519`, pre-2.2 format) or 2 (`alg: ed25519-nkey`). */
  readonly version: 1 | 2;
  readonly type: string;
  /** The subject's public key. */
  readonly subject: string;
  /** The public key that signed the token. */
  readonly issuer: string;
  readonly name: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** Seconds since the epoch; undefined = never. */
  readonly expires: number | undefined;
  readonly notBefore: number | undefined;
  readonly tags: readonly string[];
  /** The `nats` section (for v1 tokens: the claims' own type-specific fields). */
  readonly nats: Record<string, unknown>;
}

export interface OperatorClaims extends BaseClaims {
  readonly signingKeys: readonly string[];
  readonly systemAccount: string | undefined;
}

/** A user-scope signing key: users it signs get the template's permissions and limits. */
export interface UserScope {
  readonly key: string;
  readonly role: string;
  readonly template: UserTemplate;
}

/** Account limits; -1 = unlimited. */
export interface AccountLimits {
  readonly conn: number;
  readonly subs: number;
  readonly payload: number;
  readonly data: number;
  readonly imports: number;
  readonly exports: number;
  readonly leaf: number;
  readonly wildcards: boolean;
  readonly disallowBearer: boolean;
}

export interface ExportClaim {
  readonly name: string;
  readonly subject: string;
  readonly type: "stream" | "service";
  readonly tokenRequired: boolean;
  readonly responseType: "Singleton" | "Stream" | "Chunked";
  /** Milliseconds; 0 = the default (2 minutes). */
  readonly responseThresholdMs: number;
  readonly accountTokenPosition: number;
  readonly revocations: ReadonlyMap<string, number>;
}

export interface ImportClaim {
  readonly name: string;
  /** The subject in the exporting account. */
  readonly subject: string;
  readonly account: string;
  readonly type: "stream" | "service";
  /** Activation token for exports that require one. */
  readonly token: string | undefined;
  /** The subject in the importing account (`local_subject`, or the older `to`). */
  readonly localSubject: string | undefined;
  /** Older `to`: a prefix for stream imports, the local subject for service imports. */
  readonly to: string | undefined;
  readonly share: boolean;
}

/** JetStream limits of an account JWT (bytes and counts; -1 = unlimited). */
export interface JetStreamClaimLimits {
  readonly memStorage: number;
  readonly diskStorage: number;
  readonly streams: number;
  readonly consumer: number;
  readonly maxAckPending: number;
  readonly memMaxStreamBytes: number;
  readonly diskMaxStreamBytes: number;
  readonly maxBytesRequired: boolean;
}

export interface AccountClaims extends BaseClaims {
  readonly limits: AccountLimits;
  /**
   * JetStream limits: undefined when the account has no JetStream (neither memory nor disk storage, in
   * the limits or in a tier); `tiers` holds tiered limits (`R1`, `R3`) when given.
   */
  readonly jetstream:
    | { readonly limits: JetStreamClaimLimits; readonly tiers: Record<string, JetStreamClaimLimits> }
    | undefined;
  /** Signing keys; a null value is a plain key, a UserScope a scoped one. */
  readonly signingKeys: ReadonlyMap<string, UserScope | null>;
  /** User key (or `*`) → seconds: users issued at or before that time are revoked. */
  readonly revocations: ReadonlyMap<string, number>;
  readonly defaultPermissions: UserPermissions | undefined;
  readonly exports: readonly ExportClaim[];
  readonly imports: readonly ImportClaim[];
  /** External authorization (auth callout): set when the claims name auth users. */
  readonly authorization: ExternalAuthorization | undefined;
  /** Subject mappings (`mappings`: source → weighted destinations; weight 0 reads as 100), unchecked. */
  readonly mappings: readonly MappingConfig[];
}

/** An account's `authorization` claims: users not in `authUsers` are authorized by a callout service. */
export interface ExternalAuthorization {
  readonly authUsers: readonly string[];
  /** Accounts the service may place users in besides this one (`*` alone: any). */
  readonly allowedAccounts: readonly string[];
  readonly xkey: string | undefined;
}

export interface TimeRange {
  readonly start: string;
  readonly end: string;
}

/** What a user JWT (or a scoped signing key's template) grants. */
export interface UserTemplate {
  readonly permissions: UserPermissions;
  /** True when the claims set no pub/sub/resp permissions at all. */
  readonly emptyPermissions: boolean;
  readonly subs: number;
  readonly payload: number;
  readonly data: number;
  readonly src: readonly string[];
  readonly times: readonly TimeRange[];
  readonly locale: string;
  readonly bearer: boolean;
  readonly allowedConnectionTypes: readonly string[];
}

export interface UserClaims extends BaseClaims, UserTemplate {
  /** Set when a signing key (not the account key itself) issued the token. */
  readonly issuerAccount: string | undefined;
  /**
   * No permissions, limits (not even -1), bearer flag, connection types, networks or times: what a user
   * issued by a scoped signing key must look like, since the scope's template decides all of those.
   */
  readonly grantsNothing: boolean;
}

export interface ActivationClaims extends BaseClaims {
  readonly importSubject: string;
  readonly importType: "stream" | "service" | undefined;
  readonly issuerAccount: string | undefined;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, dflt = ""): string {
  return typeof v === "string" ? v : dflt;
}

function optNum(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * A limit: absent means 0 in version 2 tokens (nats-server 2.9 reads the missing field as Go's zero value,
 * so an account JWT without `conn` admits no connections) and "unlimited" in version 1 tokens.
 */
function limit(v: unknown, version: 1 | 2): number {
  const n = optNum(v);
  if (n === undefined) return version === 1 ? NO_LIMIT : 0;
  return Math.trunc(n);
}

function strList(v: unknown): string[] {
  if (typeof v === "string") return v === "" ? [] : [v];
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === "string");
}

/**
 * Decodes and verifies a NATS JWT: three base64url parts, header `typ: JWT`, `alg` ed25519 or
 * ed25519-nkey, and a signature by the `iss` key. Throws JwtError on anything else.
 */
export function decodeJwt(token: unknown): BaseClaims {
  if (typeof token !== "string") throw new JwtError("jwt is not a string");
  if (token.length === 0) throw new JwtError("empty jwt");
  if (token.length > MAX_JWT_LENGTH) throw new JwtError("jwt too large");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError(`invalid jwt: ${parts.length} parts`);
  for (const p of parts) {
    if (!/^[A-Za-z0-9_-]*={0,2}$/.test(p)) throw new JwtError("invalid jwt: not base64url");
  }
  try {
    // Checks typ, alg, the issuer key and the signature.
    jwt().decode(token);
  } catch (err) {
    throw new JwtError(`invalid jwt: ${err instanceof Error ? err.message : String(err)}`);
  }
  let header: unknown;
  let body: unknown;
  try {
    // decode() reads the JSON as Latin-1; claims are re-read as UTF-8 so names keep their characters.
    header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    body = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    throw new JwtError("invalid jwt: bad JSON");
  }
  if (!isObj(header) || !isObj(body)) throw new JwtError("invalid jwt: claims are not an object");
  const version: 1 | 2 = header.alg === "ed25519-nkey" ? 2 : 1;
  const nats = isObj(body.nats) ? body.nats : {};
  const type = version === 2 ? str(nats.type) : str(body.type, str(nats.type));
  const subject = str(body.sub);
  const issuer = str(body.iss);
  if (subject === "") throw new JwtError("invalid jwt: no subject");
  const tags = strList(nats.tags ?? body.tags);
  return {
    jwt: token,
    version,
    type,
    subject,
    issuer,
    name: str(body.name),
    issuedAt: optNum(body.iat) ?? 0,
    expires: optNum(body.exp) || undefined,
    notBefore: optNum(body.nbf) || undefined,
    tags,
    nats,
  };
}

function expectType(c: BaseClaims, type: string): void {
  if (c.type !== type) throw new JwtError(`not a ${type} jwt (type "${c.type || "none"}")`);
}

/** Is the token outside its validity window at `nowMs`? Returns the reason, or undefined when valid. */
export function validityProblem(c: BaseClaims, nowMs: number): "expired" | "not yet valid" | undefined {
  const now = nowMs / 1000;
  if (c.expires !== undefined && c.expires <= now) return "expired";
  if (c.notBefore !== undefined && c.notBefore > now) return "not yet valid";
  return undefined;
}

export function decodeOperatorJwt(token: unknown): OperatorClaims {
  const c = decodeJwt(token);
  expectType(c, "operator");
  if (!isPublicKey(c.subject, "O")) throw new JwtError("operator jwt: subject is not an operator key");
  const signingKeys = strList(c.nats.signing_keys).filter((k) => isPublicKey(k, "O"));
  if (c.issuer !== c.subject && !signingKeys.includes(c.issuer)) {
    throw new JwtError("operator jwt: not self-signed");
  }
  const sys = str(c.nats.system_account);
  return { ...c, signingKeys, systemAccount: sys === "" ? undefined : sys };
}

export function decodeAccountJwt(token: unknown): AccountClaims {
  const c = decodeJwt(token);
  expectType(c, "account");
  if (!isPublicKey(c.subject, "A")) throw new JwtError("account jwt: subject is not an account key");
  if (!isPublicKey(c.issuer, "O")) throw new JwtError("account jwt: issuer is not an operator key");
  const n = c.nats;
  const v = c.version;
  const l = isObj(n.limits) ? n.limits : {};
  const limits: AccountLimits = {
    conn: limit(l.conn, v),
    subs: limit(l.subs, v),
    payload: limit(l.payload, v),
    data: limit(l.data, v),
    imports: limit(l.imports, v),
    exports: limit(l.exports, v),
    leaf: limit(l.leaf, v),
    wildcards: l.wildcards !== false,
    disallowBearer: l.disallow_bearer === true || n.disallow_bearer === true,
  };
  const signingKeys = new Map<string, UserScope | null>();
  if (Array.isArray(n.signing_keys)) {
    for (const k of n.signing_keys) {
      if (typeof k === "string") {
        if (isPublicKey(k, "A")) signingKeys.set(k, null);
      } else if (isObj(k) && isPublicKey(k.key, "A") && str(k.kind) === "user_scope") {
        const template = isObj(k.template) ? userTemplate(k.template, 2) : userTemplate({}, 2);
        signingKeys.set(k.key, { key: k.key, role: str(k.role), template });
      }
    }
  }
  return {
    ...c,
    limits,
    jetstream: jetStreamClaims(l),
    signingKeys,
    revocations: revocationMap(n.revocations),
    defaultPermissions: isObj(n.default_permissions)
      ? permissionsFrom(n.default_permissions).permissions
      : undefined,
    exports: Array.isArray(n.exports) ? n.exports.filter(isObj).map(exportClaim) : [],
    imports: Array.isArray(n.imports) ? n.imports.filter(isObj).map(importClaim) : [],
    authorization: externalAuthorization(n.authorization),
    mappings: mappingsFromClaims(n.mappings),
  };
}

function externalAuthorization(v: unknown): ExternalAuthorization | undefined {
  if (!isObj(v)) return undefined;
  const authUsers = strList(v.auth_users);
  if (authUsers.length === 0) return undefined;
  const xkey = str(v.xkey);
  return { authUsers, allowedAccounts: strList(v.allowed_accounts), xkey: xkey === "" ? undefined : xkey };
}

export function decodeUserJwt(token: unknown): UserClaims {
  const c = decodeJwt(token);
  expectType(c, "user");
  if (!isPublicKey(c.subject, "U")) throw new JwtError("user jwt: subject is not a user key");
  if (!isPublicKey(c.issuer, "A")) throw new JwtError("user jwt: issuer is not an account key");
  const ia = str(c.nats.issuer_account);
  if (ia !== "" && !isPublicKey(ia, "A"))
    throw new JwtError("user jwt: issuer_account is not an account key");
  const n = c.nats;
  const template = userTemplate(n, c.version);
  const zero = (v: unknown) => v === undefined || v === 0;
  const grantsNothing =
    template.emptyPermissions &&
    zero(n.subs) &&
    zero(n.data) &&
    zero(n.payload) &&
    n.bearer_token !== true &&
    template.src.length === 0 &&
    template.times.length === 0 &&
    template.locale === "" &&
    template.allowedConnectionTypes.length === 0;
  return { ...c, ...template, issuerAccount: ia === "" ? undefined : ia, grantsNothing };
}

export function decodeActivationJwt(token: unknown): ActivationClaims {
  const c = decodeJwt(token);
  expectType(c, "activation");
  const kind = str(c.nats.kind);
  const ia = str(c.nats.issuer_account);
  return {
    ...c,
    importSubject: str(c.nats.subject),
    importType: kind === "stream" || kind === "service" ? kind : undefined,
    issuerAccount: ia === "" ? undefined : ia,
  };
}

function jsLimits(l: Obj): JetStreamClaimLimits {
  // JetStream limits read absent as 0 in every token version, as nats-server does.
  const n = (v: unknown) => Math.trunc(optNum(v) ?? 0);
  return {
    memStorage: n(l.mem_storage),
    diskStorage: n(l.disk_storage),
    streams: n(l.streams),
    consumer: n(l.consumer),
    maxAckPending: n(l.max_ack_pending),
    memMaxStreamBytes: n(l.mem_max_stream_bytes),
    diskMaxStreamBytes: n(l.disk_max_stream_bytes),
    maxBytesRequired: l.max_bytes_required === true,
  };
}

function jetStreamClaims(l: Obj): AccountClaims["jetstream"] {
  const limits = jsLimits(l);
  const tiers: Record<string, JetStreamClaimLimits> = {};
  if (isObj(l.tiered_limits)) {
    for (const [tier, v] of Object.entries(l.tiered_limits)) if (isObj(v)) tiers[tier] = jsLimits(v);
  }
  const enabled = [limits, ...Object.values(tiers)].some((x) => x.memStorage !== 0 || x.diskStorage !== 0);
  return enabled ? { limits, tiers } : undefined;
}

function revocationMap(v: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObj(v)) return out;
  for (const [k, t] of Object.entries(v)) {
    const n = optNum(t);
    if (n !== undefined) out.set(k, n);
  }
  return out;
}

function rules(v: unknown): PermissionRules | undefined {
  if (!isObj(v)) return undefined;
  const allow = strList(v.allow);
  const deny = strList(v.deny);
  if (allow.length === 0 && deny.length === 0) return undefined;
  const r: PermissionRules = {};
  if (allow.length > 0) r.allow = allow;
  if (deny.length > 0) r.deny = deny;
  return r;
}

/** pub/sub/resp as the authenticator's UserPermissions; `resp.ttl` is a Go duration in nanoseconds. */
function permissionsFrom(n: Obj): { permissions: UserPermissions; empty: boolean } {
  const p: UserPermissions = {};
  const pub = rules(n.pub);
  const sub = rules(n.sub);
  if (pub) p.publish = pub;
  if (sub) p.subscribe = sub;
  if (isObj(n.resp)) {
    const max = Math.trunc(optNum(n.resp.max) ?? 0);
    const ttlMs = Math.trunc((optNum(n.resp.ttl) ?? 0) / 1e6);
    // 0 keeps nats-server's default (1 response, 2 minutes); negative means unlimited.
    const limits: ResponseLimits = {
      max: max === 0 ? 1 : Math.max(max, 0),
      expiresMs: ttlMs === 0 ? 120_000 : Math.max(ttlMs, 0),
    };
    p.allowResponses = limits;
  }
  return { permissions: p, empty: pub === undefined && sub === undefined && p.allowResponses === undefined };
}

function userTemplate(n: Obj, version: 1 | 2): UserTemplate {
  const { permissions, empty } = permissionsFrom(n);
  // `src` was a comma-separated string before it became a list.
  const src = (typeof n.src === "string" ? n.src.split(",") : strList(n.src))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const times: TimeRange[] = Array.isArray(n.times)
    ? n.times.filter(isObj).map((t) => ({ start: str(t.start), end: str(t.end) }))
    : [];
  return {
    permissions,
    emptyPermissions: empty,
    subs: limit(n.subs, version),
    payload: limit(n.payload, version),
    data: limit(n.data, version),
    src,
    times,
    locale: str(n.locale),
    bearer: n.bearer_token === true,
    allowedConnectionTypes: strList(n.allowed_connection_types).map((t) => t.toUpperCase()),
  };
}

function exportClaim(e: Obj): ExportClaim {
  const rt = str(e.response_type);
  const type = str(e.type) === "service" ? "service" : "stream";
  return {
    name: str(e.name),
    subject: str(e.subject),
    type,
    tokenRequired: e.token_req === true,
    responseType: rt === "Stream" || rt === "Chunked" ? rt : "Singleton",
    responseThresholdMs: Math.trunc((optNum(e.response_threshold) ?? 0) / 1e6),
    accountTokenPosition: Math.trunc(optNum(e.account_token_position) ?? 0),
    revocations: revocationMap(e.revocations),
  };
}

function importClaim(i: Obj): ImportClaim {
  const type = str(i.type) === "service" ? "service" : "stream";
  const to = str(i.to);
  const local = str(i.local_subject);
  const token = str(i.token);
  return {
    name: str(i.name),
    subject: str(i.subject),
    account: str(i.account),
    type,
    token: token === "" ? undefined : token,
    localSubject: local === "" ? undefined : local,
    to: to === "" ? undefined : to,
    share: i.share === true,
  };
}

/**
 * The JWT inside a creds file or a decorated JWT file (`-----BEGIN NATS ... JWT-----`); plain text is
 * returned trimmed.
 */
export function extractJwt(text: string): string {
  const m = /-{3,}BEGIN NATS [A-Z ]*JWT-{3,}\s*([A-Za-z0-9_.=-]+)\s*-{3,}/.exec(text);
  if (m) return m[1];
  return text.trim();
}
