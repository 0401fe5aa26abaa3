// Reads the config file's multi-tenancy keys into MultiTenancyOptions: `accounts { }`, `system_account`,
// `no_system_account`, and operator mode (`operator`, `trusted_keys`, `resolver`, `resolver_preload`).
// Errors name the offending field; cross-account checks (imports naming exports) run in finishAccounts.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isValidUserNkey } from "../auth/authenticator.js";
import { parsePermissions, parseUser } from "../auth/config.js";
import { parseGoDuration } from "../auth/duration.js";
import {
  decodeAccountJwt,
  decodeOperatorJwt,
  extractJwt,
  isPublicKey,
  JwtError,
} from "../auth/jwt-claims.js";
import type { AuthOptions } from "../auth/types.js";
import { type ConfigMap, isUsedAsVariable } from "../config/tree.js";
import { MappingError, mappingsFromConfig, type WithMappings } from "../subjects/mapping.js";
import { isSubsetMatch, subjectsCollide } from "../subjects/pattern.js";
import { isValidPublishSubject, isValidSubscribeSubject } from "../subjects/validate.js";
import { JsConfigError, parseAccountJetStream } from "./js-config.js";
import {
  type AccountConfig,
  type AccountLimitsConfig,
  DEFAULT_SYSTEM_ACCOUNT,
  type ExportConfig,
  type ImportConfig,
  type MultiTenancyOptions,
  type OperatorOptions,
  type ResolverOptions,
  type ResponseType,
  UNLIMITED,
} from "./types.js";

export class AccountConfigError extends Error {}

type Warn = (msg: string) => void;
type Obj = Record<string, unknown>;

const DEFAULT_RESPONSE_THRESHOLD_MS = 120_000;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Config-file errors of the JetStream entry, as account config errors. */
function wrapJsError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof JsConfigError) fail(err.message);
    throw err;
  }
}

function fail(msg: string): never {
  throw new AccountConfigError(msg);
}

function lower(o: Obj): [string, unknown][] {
  return Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]);
}

function str(v: unknown, at: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return fail(`${at}: expected a string, got ${JSON.stringify(v)}`);
}

function int(v: unknown, at: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  return fail(`${at}: expected an integer, got ${JSON.stringify(v)}`);
}

function strList(v: unknown, at: string): string[] {
  if (typeof v === "string") return [v];
  if (!Array.isArray(v)) return fail(`${at}: expected a string or an array of strings`);
  return v.map((x, i) => str(x, `${at}[${i}]`));
}

function wrapAuthError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AccountConfigError) throw err;
    throw new AccountConfigError(err instanceof Error ? err.message : String(err));
  }
}

/** Applies one multi-tenancy key of the config (already lower-cased) to `opts`. */
export function applyTenancyKey(
  opts: MultiTenancyOptions,
  key: string,
  v: unknown,
  warn: Warn,
  configDir: string,
): void {
  switch (key) {
    case "accounts":
      opts.accounts = parseAccounts(v, warn);
      break;
    case "system_account":
    case "system":
      opts.systemAccount = str(v, key);
      break;
    case "no_system_account":
      opts.noSystemAccount = v === true || (typeof v === "string" && /^(true|yes|on)$/i.test(v));
      break;
    case "operator":
    case "operators":
    case "trusted": {
      const op = operatorOptions(opts);
      for (const [i, item] of (Array.isArray(v) ? v : [v]).entries()) {
        op.operatorJwts.push(readOperatorJwt(item, Array.isArray(v) ? `${key}[${i}]` : key, configDir));
      }
      break;
    }
    case "trusted_keys": {
      const op = operatorOptions(opts);
      for (const k of strList(v, key)) {
        if (!isPublicKey(k, "O")) fail(`${key}: "${k}" is not an operator public key`);
        op.trustedKeys.push(k);
      }
      break;
    }
    case "resolver":
      operatorOptions(opts).resolver = parseResolver(v, configDir);
      break;
    case "resolver_preload": {
      if (!isObj(v)) fail(`${key}: expected a map of account public keys to account JWTs`);
      const op = operatorOptions(opts);
      for (const [acc, jwt] of Object.entries(v)) {
        const token = str(jwt, `${key}.${acc}`).trim();
        let claims: ReturnType<typeof decodeAccountJwt>;
        try {
          claims = decodeAccountJwt(token);
        } catch (err) {
          fail(`${key}: account "${acc}": ${err instanceof Error ? err.message : String(err)}`);
        }
        if (claims.subject !== acc) fail(`${key}: account "${acc}": the JWT is for ${claims.subject}`);
        op.preload[acc] = token;
      }
      break;
    }
    default:
      fail(`${key}: not a multi-tenancy option`);
  }
}

function operatorOptions(
  opts: MultiTenancyOptions,
): OperatorOptions & { resolver: ResolverOptions | undefined } {
  opts.operator ??= { operatorJwts: [], trustedKeys: [], resolver: undefined, preload: {} };
  return opts.operator as OperatorOptions & { resolver: ResolverOptions | undefined };
}

/** A JWT given inline, or the path of a file holding one (plain or decorated). */
function readOperatorJwt(v: unknown, at: string, configDir: string): string {
  const text = str(v, at).trim();
  let token = text;
  if (!/^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) {
    const path = resolve(configDir, text);
    try {
      token = extractJwt(readFileSync(path, "utf8"));
    } catch (err) {
      return fail(`${at}: cannot read operator JWT file "${path}": ${(err as Error).message}`);
    }
  }
  try {
    decodeOperatorJwt(token);
  } catch (err) {
    return fail(`${at}: ${err instanceof JwtError ? err.message : String(err)}`);
  }
  return token;
}

function parseResolver(v: unknown, configDir: string): ResolverOptions {
  if (typeof v === "string") {
    const s = v.trim();
    if (s.toUpperCase() === "MEMORY") return { type: "memory" };
    if (/^URL\(/i.test(s))
      fail(`resolver: URL resolvers are not supported by this release; use MEMORY or a dir`);
    return fail(`resolver: expected MEMORY or a map { type: full, dir: ... }, got "${s}"`);
  }
  if (!isObj(v)) return fail("resolver: expected MEMORY or a map");
  let type = "full";
  let dir: string | undefined;
  let allowDelete = false;
  let limit = 1000;
  for (const [k, val] of lower(v)) {
    const at = `resolver.${k}`;
    switch (k) {
      case "type":
        type = str(val, at).toLowerCase();
        break;
      case "dir":
        dir = resolve(configDir, str(val, at));
        break;
      case "allow_delete":
        allowDelete = val === true;
        break;
      case "limit":
        limit = int(val, at);
        break;
      case "interval":
      case "timeout":
      case "ttl":
      case "hard_delete":
        break;
      default:
        fail(`${at}: unknown field`);
    }
  }
  if (type === "mem" || type === "memory") return { type: "memory" };
  if (type !== "full" && type !== "cache") fail(`resolver.type: expected full or cache, got "${type}"`);
  if (dir === undefined) fail("resolver.dir: required for a full or cache resolver");
  return { type, dir, allowDelete, limit };
}

function parseAccounts(v: unknown, warn: Warn): AccountConfig[] {
  // `accounts: [A, B]` (names only) is accepted as nats-server does.
  if (Array.isArray(v)) return v.map((n, i) => emptyAccount(str(n, `accounts[${i}]`)));
  if (!isObj(v)) fail("accounts: expected a map of account names to account blocks");
  const out: AccountConfig[] = [];
  for (const [name, body] of Object.entries(v)) {
    if (name === "$G") fail(`accounts: "$G" is reserved for the global account`);
    out.push(parseAccount(name, body, warn));
  }
  return out;
}

function emptyAccount(name: string): AccountConfig {
  return {
    name,
    users: [],
    exports: [],
    imports: [],
    limits: UNLIMITED,
    jetstream: false,
    jetstreamLimits: undefined,
    defaultPermissions: undefined,
    nkey: undefined,
  };
}

function parseAccount(name: string, body: unknown, warn: Warn): AccountConfig {
  const at = `accounts.${name}`;
  if (!isObj(body)) fail(`${at}: expected a map`);
  const acc = emptyAccount(name) as {
    -readonly [K in keyof AccountConfig]: AccountConfig[K];
  };
  let rawUsers: unknown[] = [];
  for (const [k, val] of lower(body)) {
    const f = `${at}.${k}`;
    switch (k) {
      case "users":
        if (!Array.isArray(val)) fail(`${f}: expected an array of users`);
        rawUsers = val;
        break;
      case "exports":
        if (!Array.isArray(val)) fail(`${f}: expected an array`);
        acc.exports = val.map((e, i) => parseExport(e, `${f}[${i}]`));
        break;
      case "imports":
        if (!Array.isArray(val)) fail(`${f}: expected an array`);
        acc.imports = val.map((e, i) => parseImport(e, `${f}[${i}]`));
        break;
      case "jetstream": {
        const js = wrapJsError(() => parseAccountJetStream(val, f));
        acc.jetstream = js.enabled;
        acc.jetstreamLimits = js.limits;
        break;
      }
      case "limits":
        acc.limits = parseLimits(val, f);
        break;
      case "default_permissions":
      case "default_permission":
        acc.defaultPermissions = wrapAuthError(() => parsePermissions(val, f, warn));
        break;
      case "nkey": {
        const key = str(val, f);
        if (!isPublicKey(key, "A")) fail(`${f}: "${key}" is not an account public key`);
        acc.nkey = key;
        break;
      }
      case "mappings":
      case "maps": {
        const holder = acc as AccountConfig & WithMappings;
        holder.mappings = [...(holder.mappings ?? []), ...parseMappings(val, f)];
        break;
      }
      case "msg_trace":
        warn(`${f} is accepted but has no effect in this release`);
        break;
      default:
        // A block may define variables for its own entries (`PERM: {...}` used as `$PERM`).
        if (
          Object.keys(body).some((key) => key.toLowerCase() === k && isUsedAsVariable(body as ConfigMap, key))
        ) {
          break;
        }
        fail(`${f}: unknown field "${k}"`);
    }
  }
  acc.users = rawUsers.map((u, i) => {
    const entry = wrapAuthError(() => parseUser(u, `${at}.users[${i}]`, warn));
    // Users without their own permissions get the account's defaults.
    return {
      ...entry,
      permissions: entry.permissions ?? acc.defaultPermissions,
      account: name,
    };
  });
  return acc;
}

function parseMappings(v: unknown, at: string): NonNullable<WithMappings["mappings"]> {
  try {
    return mappingsFromConfig(v, at);
  } catch (err) {
    if (err instanceof MappingError) fail(err.message);
    throw err;
  }
}

function parseLimits(v: unknown, at: string): AccountLimitsConfig {
  if (!isObj(v)) fail(`${at}: expected a map`);
  const l = { ...UNLIMITED };
  for (const [k, val] of lower(v)) {
    const f = `${at}.${k}`;
    switch (k) {
      case "max_connections":
      case "max_conn":
        l.maxConnections = int(val, f);
        break;
      case "max_subscriptions":
      case "max_subs":
        l.maxSubscriptions = int(val, f);
        break;
      case "max_payload":
      case "max_pay":
        l.maxPayload = int(val, f);
        break;
      case "max_leafnodes":
      case "max_leafs":
        l.maxLeafNodes = int(val, f);
        break;
      default:
        fail(`${f}: unknown field "${k}"`);
    }
  }
  return l;
}

function responseType(v: unknown, at: string): ResponseType {
  const s = str(v, at).toLowerCase();
  if (s === "single" || s === "singleton") return "Singleton";
  if (s === "stream") return "Stream";
  if (s === "chunked") return "Chunked";
  return fail(`${at}: unknown response type "${s}" (expected single, stream or chunked)`);
}

function duration(v: unknown, at: string): number {
  if (typeof v === "number") return v * 1000;
  try {
    return parseGoDuration(str(v, at));
  } catch {
    return fail(`${at}: invalid duration ${JSON.stringify(v)}`);
  }
}

function parseExport(v: unknown, at: string): ExportConfig {
  if (!isObj(v)) fail(`${at}: expected a map with "stream" or "service"`);
  let kind: "stream" | "service" | undefined;
  let subject = "";
  let accounts: string[] | undefined;
  let rt: ResponseType = "Singleton";
  let threshold = DEFAULT_RESPONSE_THRESHOLD_MS;
  let sawResponseType = false;
  for (const [k, val] of lower(v)) {
    const f = `${at}.${k}`;
    switch (k) {
      case "stream":
      case "service":
        if (kind !== undefined) fail(`${at}: give either "stream" or "service", not both`);
        kind = k;
        subject = str(val, f);
        break;
      case "accounts":
        accounts = strList(val, f);
        break;
      case "response":
      case "response_type":
        rt = responseType(val, f);
        sawResponseType = true;
        break;
      case "threshold":
      case "response_threshold":
      case "response_max_time":
      case "response_time":
        threshold = duration(val, f);
        break;
      case "latency":
      case "allow_trace":
      case "account_token_position":
      case "advertise":
        break;
      default:
        fail(`${f}: unknown field "${k}"`);
    }
  }
  if (kind === undefined) fail(`${at}: expected "stream" or "service"`);
  if (!isValidSubscribeSubject(subject)) fail(`${at}: "${subject}" is not a valid subject`);
  if (kind === "stream" && sawResponseType) fail(`${at}: response types only apply to service exports`);
  return { kind, subject, accounts, responseType: rt, responseThresholdMs: threshold };
}

function parseImport(v: unknown, at: string): ImportConfig {
  if (!isObj(v)) fail(`${at}: expected a map with "stream" or "service"`);
  let kind: "stream" | "service" | undefined;
  let account = "";
  let subject = "";
  let to: string | undefined;
  let prefix: string | undefined;
  let share = false;
  for (const [k, val] of lower(v)) {
    const f = `${at}.${k}`;
    switch (k) {
      case "stream":
      case "service": {
        if (kind !== undefined) fail(`${at}: give either "stream" or "service", not both`);
        kind = k;
        if (!isObj(val)) fail(`${f}: expected { account, subject }`);
        for (const [kk, vv] of lower(val)) {
          if (kk === "account") account = str(vv, `${f}.account`);
          else if (kk === "subject") subject = str(vv, `${f}.subject`);
          else fail(`${f}.${kk}: unknown field (expected account and subject)`);
        }
        break;
      }
      case "to":
      case "local_subject":
        to = str(val, f);
        break;
      case "prefix":
        prefix = str(val, f);
        break;
      case "share":
        share = val === true;
        break;
      case "allow_trace":
        break;
      default:
        fail(`${f}: unknown field "${k}"`);
    }
  }
  if (kind === undefined) fail(`${at}: expected "stream" or "service"`);
  if (account === "") fail(`${at}: the ${kind} import names no account`);
  if (!isValidSubscribeSubject(subject)) fail(`${at}: "${subject}" is not a valid subject`);
  if (kind === "service" && prefix !== undefined) fail(`${at}: "prefix" only applies to stream imports`);
  if (prefix !== undefined && (prefix === "" || !isValidPublishSubject(prefix))) {
    fail(`${at}.prefix: "${prefix}" is not a valid subject prefix`);
  }
  if (to !== undefined && !isValidSubscribeSubject(to)) fail(`${at}.to: "${to}" is not a valid subject`);
  return { kind, account, subject, to, prefix, share };
}

/**
 * Once every key is applied: checks accounts against each other (imports name defined accounts and
 * subjects they export), operator mode against the rest, and puts account users into `authorization`
 * so the authenticator sees them. Idempotent.
 */
export function finishTenancy(opts: MultiTenancyOptions & { authorization?: AuthOptions }): void {
  const accounts = opts.accounts ?? [];
  if (opts.operator !== undefined) {
    if (accounts.length > 0) fail("accounts: not allowed in operator mode (accounts come from JWTs)");
    if (opts.authorization?.users?.length || opts.authorization?.user || opts.authorization?.token) {
      fail("authorization: users, passwords and tokens are not allowed in operator mode");
    }
    if (opts.operator.operatorJwts.length === 0 && opts.operator.trustedKeys.length === 0) {
      fail("resolver: operator mode needs an operator JWT (operator) or trusted_keys");
    }
    if (opts.operator.resolver === undefined)
      fail("resolver: operator mode needs a resolver (MEMORY or a dir)");
    return;
  }
  const byName = new Map(accounts.map((a) => [a.name, a]));
  if (byName.size !== accounts.length) fail("accounts: an account is defined twice");
  for (const a of accounts) {
    for (const imp of a.imports) {
      const exporter = byName.get(imp.account);
      if (exporter === undefined) fail(`"${imp.account}" account not defined for ${imp.kind} import`);
      if (!importAuthorized(exporter, a.name, imp)) {
        fail(`Error adding ${imp.kind} import "${imp.subject}": ${imp.kind} import not authorized`);
      }
    }
  }
  const cycle = findImportCycle(accounts);
  if (cycle !== undefined) {
    fail(`Error adding ${cycle.kind} import "${cycle.subject}": import forms a cycle`);
  }
  const sys = opts.systemAccount;
  if (sys !== undefined && sys !== DEFAULT_SYSTEM_ACCOUNT && !byName.has(sys)) {
    fail(`system_account: "${sys}" account not defined`);
  }
  // Account users join the authorization users (the authenticator maps them to their account).
  const accountUsers = accounts.flatMap((a) => a.users);
  if (accountUsers.length === 0) return;
  const auth = opts.authorization ?? {};
  const own = (auth.users ?? []).filter((u) => !accountUsers.includes(u));
  const names = new Set<string>();
  for (const u of [...own, ...accountUsers]) {
    const id = u.nkey || u.user || "";
    if (names.has(id)) fail(`Duplicate user "${id}" detected`);
    names.add(id);
    if (u.nkey && !isValidUserNkey(u.nkey)) fail(`nkey "${u.nkey}" is not a valid user public key`);
  }
  opts.authorization = { ...auth, users: [...own, ...accountUsers] };
}

interface Flow {
  readonly imp: ImportConfig;
  readonly from: string;
  readonly fromSubject: string;
  readonly to: string;
}

/**
 * An import through which messages come back to where they started: streams flow from exporter to
 * importer, service requests from importer to exporter; a hop continues a path when its subject overlaps
 * the starting import's subject. Like nats-server, remapped subjects (`to`, `prefix`) are not followed, so
 * only those cycles are refused; others are cut at run time (an import never re-enters an account).
 */
export function findImportCycle(accounts: readonly AccountConfig[]): ImportConfig | undefined {
  const flows: Flow[] = [];
  for (const a of accounts) {
    for (const imp of a.imports) {
      const local =
        imp.prefix !== undefined ? `${imp.prefix}.${imp.to ?? imp.subject}` : (imp.to ?? imp.subject);
      flows.push(
        imp.kind === "stream"
          ? { imp, from: imp.account, fromSubject: imp.subject, to: a.name }
          : { imp, from: a.name, fromSubject: local, to: imp.account },
      );
    }
  }
  for (const start of flows) {
    const seen = new Set<Flow>([start]);
    const stack: Flow[] = [start];
    while (stack.length > 0) {
      const f = stack.pop()!;
      if (f.to === start.from) return start.imp;
      for (const next of flows) {
        if (seen.has(next) || next.imp.kind !== start.imp.kind || next.from !== f.to) continue;
        if (!subjectsCollide(next.fromSubject, start.imp.subject)) continue;
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return undefined;
}

/** Does one of `exporter`'s exports of the same kind cover `imp.subject` for account `importer`? */
export function importAuthorized(
  exporter: { exports: readonly ExportConfig[] },
  importer: string,
  imp: { kind: "stream" | "service"; subject: string },
): boolean {
  return findExport(exporter.exports, imp.kind, imp.subject, importer) !== undefined;
}

/** The export of `kind` that covers `subject` and admits `importer`. */
export function findExport(
  exports: readonly ExportConfig[],
  kind: "stream" | "service",
  subject: string,
  importer: string,
): ExportConfig | undefined {
  return exports.find(
    (e) =>
      e.kind === kind &&
      (e.accounts === undefined || e.accounts.includes(importer)) &&
      isSubsetMatch(subject, e.subject),
  );
}
