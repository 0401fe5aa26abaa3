// Translates the config file's `authorization { … }` block (already parsed into plain values) into
// AuthOptions. Key names are case-insensitive and accept nats-server's aliases; bad shapes throw Errors that
// name the offending field, unknown fields are errors as in nats-server.
import { type ConfigMap, isUsedAsVariable } from "../config/tree.js";
import { validateAuthOptions } from "./authenticator.js";
import { parseAuthCallout } from "./callout-config.js";
import { parseGoDuration } from "./duration.js";
import { isBcrypt } from "./passwords.js";
import { parseRule } from "./permissions.js";
import { DEFAULT_RESPONSE_LIMITS } from "./response-permissions.js";
import type { AuthOptions, PermissionRules, ResponseLimits, UserEntry, UserPermissions } from "./types.js";

type Warn = (msg: string) => void;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Entries with lower-cased keys; two spellings of one key are an error rather than a silent override. */
function fields(obj: Record<string, unknown>, path: string): [string, unknown][] {
  const seen = new Set<string>();
  return Object.entries(obj).map(([k, v]) => {
    const key = k.toLowerCase();
    if (seen.has(key)) throw new Error(`${path}: field "${key}" given more than once`);
    seen.add(key);
    return [key, v];
  });
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new Error(`${path}: expected a string, got ${describe(v)}`);
  return v;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "a map";
  return `${typeof v} ${JSON.stringify(typeof v === "bigint" ? String(v) : v)}`;
}

export function authOptionsFromConfig(authorization: Record<string, unknown>, warn: Warn): AuthOptions {
  const path = "authorization";
  if (!isMap(authorization)) throw new Error(`${path}: expected a map, got ${describe(authorization)}`);
  const opts: AuthOptions = {};
  for (const [key, v] of fields(authorization, path)) {
    const at = `${path}.${key}`;
    switch (key) {
      case "user":
      case "username":
        opts.user = str(v, at);
        break;
      case "pass":
      case "password":
        opts.password = str(v, at);
        break;
      case "token":
        opts.token = str(v, at);
        break;
      case "timeout":
        opts.timeoutMs = parseTimeout(v, at);
        break;
      case "users":
        if (!Array.isArray(v)) throw new Error(`${at}: expected an array of users, got ${describe(v)}`);
        opts.users = v.map((u, i) => parseUser(u, `${at}[${i}]`, warn));
        break;
      case "default_permissions":
      case "default_permission":
      case "permissions":
        opts.defaultPermissions = parsePermissions(v, at, warn);
        break;
      case "auth_callout":
      case "auth_hook":
        opts.callout = parseAuthCallout(v, at);
        break;
      default:
        // A block may define variables for its own entries (`PERM: {...}` used as `$PERM`).
        if (definesVariable(authorization, key)) break;
        throw new Error(`${at}: unknown field "${key}"`);
    }
  }
  const passwords = [opts.password, ...(opts.users ?? []).map((u) => u.password)];
  if (passwords.some((p) => p !== undefined && p !== "" && !isBcrypt(p))) {
    warn("Plaintext passwords detected, use nkeys or bcrypt");
  }
  validateAuthOptions(opts, path);
  return opts;
}

/** Is `key` (lower-cased) a key of `map` that the configuration referenced as a variable? */
function definesVariable(map: Record<string, unknown>, key: string): boolean {
  return Object.keys(map).some((k) => k.toLowerCase() === key && isUsedAsVariable(map as ConfigMap, k));
}

function parseTimeout(v: unknown, at: string): number {
  const seconds = num(v);
  let ms: number;
  if (seconds !== undefined) ms = seconds * 1000;
  else if (typeof v === "string") ms = duration(v, at);
  else throw new Error(`${at}: expected seconds (a number) or a duration string, got ${describe(v)}`);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`${at}: must not be negative`);
  return ms;
}

function duration(v: string, at: string): number {
  try {
    return parseGoDuration(v);
  } catch {
    throw new Error(`${at}: invalid duration "${v}"`);
  }
}

export function parseUser(v: unknown, at: string, warn: Warn): UserEntry {
  if (!isMap(v)) throw new Error(`${at}: expected a user map, got ${describe(v)}`);
  const u: UserEntry = {};
  for (const [key, val] of fields(v, at)) {
    const f = `${at}.${key}`;
    switch (key) {
      case "user":
      case "username":
        u.user = str(val, f);
        break;
      case "pass":
      case "password":
        u.password = str(val, f);
        break;
      case "nkey":
        u.nkey = str(val, f);
        break;
      case "permission":
      case "permissions":
      case "authorization":
        u.permissions = parsePermissions(val, f, warn);
        break;
      case "allowed_connection_types": {
        const list = typeof val === "string" ? [val] : val;
        if (!Array.isArray(list)) throw new Error(`${f}: expected a string or an array of strings`);
        u.allowedConnectionTypes = list.map((t, i) => str(t, `${f}[${i}]`).toUpperCase());
        break;
      }
      default:
        throw new Error(`${f}: unknown field "${key}"`);
    }
  }
  // Re-checked by validateAuthOptions, but the config wording is clearer here.
  if (u.nkey === undefined && !u.user) throw new Error(`${at}: user entry requires a user or an nkey`);
  return u;
}

export function parsePermissions(v: unknown, at: string, warn: Warn): UserPermissions {
  if (!isMap(v)) throw new Error(`${at}: expected a permissions map, got ${describe(v)}`);
  const p: UserPermissions = {};
  for (const [key, val] of fields(v, at)) {
    const f = `${at}.${key}`;
    switch (key) {
      case "publish":
      case "pub":
      case "import":
        p.publish = parseSubjectPermission(val, f, false);
        break;
      case "subscribe":
      case "sub":
      case "export":
        p.subscribe = parseSubjectPermission(val, f, true);
        break;
      case "allow_responses":
      case "publish_allow_responses": {
        const r = parseAllowResponses(val, f, warn);
        if (r !== undefined) p.allowResponses = r;
        break;
      }
      default:
        throw new Error(`${f}: unknown field "${key}" (expected publish, subscribe or allow_responses)`);
    }
  }
  return p;
}

/** A subject, an array of subjects (both meaning `allow`), or `{ allow, deny }`. */
function parseSubjectPermission(v: unknown, at: string, queues: boolean): PermissionRules {
  if (typeof v === "string" || Array.isArray(v)) return { allow: subjectList(v, at, queues) };
  if (!isMap(v)) {
    throw new Error(`${at}: expected a subject, an array of subjects or { allow, deny }, got ${describe(v)}`);
  }
  const rules: PermissionRules = {};
  for (const [key, val] of fields(v, at)) {
    if (key !== "allow" && key !== "deny") {
      throw new Error(`${at}: unknown field "${key}", only "allow" or "deny" are permitted`);
    }
    rules[key] = subjectList(val, `${at}.${key}`, queues);
  }
  return rules;
}

function subjectList(v: unknown, at: string, queues: boolean): string[] {
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list))
    throw new Error(`${at}: expected a subject or an array of subjects, got ${describe(v)}`);
  return list.map((s, i) => {
    const f = typeof v === "string" ? at : `${at}[${i}]`;
    parseRule(str(s, f), f, queues);
    return s as string;
  });
}

/**
 * `true` → nats-server defaults; a map sets `max` / `expires`, where 0 (or absent) keeps the default and a
 * negative value means unlimited. Numbers for `expires` are taken as seconds.
 */
function parseAllowResponses(v: unknown, at: string, warn: Warn): true | ResponseLimits | undefined {
  if (typeof v === "boolean") return v ? true : undefined;
  if (!isMap(v)) throw new Error(`${at}: expected a boolean or a map, got ${describe(v)}`);
  const limits: ResponseLimits = { ...DEFAULT_RESPONSE_LIMITS };
  for (const [key, val] of fields(v, at)) {
    const f = `${at}.${key}`;
    switch (key) {
      case "max":
      case "max_msgs":
      case "max_messages":
      case "max_responses": {
        const n = num(val);
        if (n === undefined || !Number.isInteger(n))
          throw new Error(`${f}: expected an integer, got ${describe(val)}`);
        if (n !== 0) limits.max = Math.max(n, 0);
        break;
      }
      case "expires":
      case "expiration":
      case "ttl": {
        let ms: number;
        const seconds = num(val);
        if (seconds !== undefined) {
          warn(`${f}: number taken as seconds; prefer a duration string such as "${seconds}s"`);
          ms = seconds * 1000;
        } else if (typeof val === "string") {
          ms = duration(val, f);
        } else {
          throw new Error(`${f}: expected a duration string, got ${describe(val)}`);
        }
        if (!Number.isFinite(ms)) throw new Error(`${f}: invalid duration`);
        if (ms !== 0) limits.expiresMs = Math.max(ms, 0);
        break;
      }
      default:
        throw new Error(`${f}: unknown field "${key}" (expected max or expires)`);
    }
  }
  return limits;
}
