// Decides whether a CONNECT's credentials are acceptable and which identity/permissions they carry.
// Mirrors nats-server 2.9 (server/auth.go) outside operator/JWT mode.
import { randomBytes } from "node:crypto";
import { nkeys } from "./lazy-libs.js";
import { secretMatches } from "./passwords.js";
import { Permissions, validateUserPermissions } from "./permissions.js";
import type { AuthOptions, AuthResult, ClientAuthenticator, ConnectCredentials, UserEntry } from "./types.js";

export const GLOBAL_ACCOUNT = "$G";
export const DEFAULT_AUTH_TIMEOUT_MS = 2000;
export const DEFAULT_CONNECTION_TYPE = "STANDARD";

/** Connection kinds `allowed_connection_types` may name (nats-server 2.9 accepts exactly these). */
export const CONNECTION_TYPES: ReadonlySet<string> = new Set([
  "STANDARD",
  "WEBSOCKET",
  "LEAFNODE",
  "LEAFNODE_WS",
  "MQTT",
  "MQTT_WS",
]);

interface PreparedUser {
  entry: UserEntry;
  permissions: Permissions | undefined;
  connectionTypes: ReadonlySet<string> | undefined;
}

/** Is `key` a well-formed user public nkey (`U…`, 56 chars, valid checksum)? */
export function isValidUserNkey(key: string): boolean {
  if (key.length !== 56 || !key.startsWith("U")) return false;
  try {
    return nkeys().fromPublic(key).getPublicKey() === key;
  } catch {
    return false;
  }
}

/** Raw base64url (what clients send) or padded standard base64, the two forms nats-server accepts. */
function decodeSignature(sig: string): Uint8Array | undefined {
  if (/^[A-Za-z0-9_-]+$/.test(sig) && sig.length % 4 !== 1) return Buffer.from(sig, "base64url");
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(sig) && sig.length % 4 === 0) return Buffer.from(sig, "base64");
  return undefined;
}

/** Does `sig` (as sent in CONNECT) sign this connection's INFO nonce with the key `nkey`? */
export function verifyNonceSignature(nkey: string, nonce: string, sig: string): boolean {
  const raw = decodeSignature(sig);
  if (raw === undefined) return false;
  try {
    // The client signs the nonce exactly as sent in INFO (its ASCII text, not the decoded bytes).
    return nkeys().fromPublic(nkey).verify(Buffer.from(nonce, "utf8"), raw);
  } catch {
    // Wrong signature length and similar malformed input.
    return false;
  }
}

/**
 * Validates option combinations and user entries, throwing Errors named after config fields
 * (`authorization.users[1]: …`).
 */
export function validateAuthOptions(opts: AuthOptions, path = "authorization"): void {
  const users = opts.users ?? [];
  if (opts.user && opts.token) throw new Error(`${path}: cannot have a user/password and a token`);
  if (users.length > 0 && opts.user) {
    throw new Error(`${path}: cannot have a single user/password and a users array`);
  }
  if (users.length > 0 && opts.token) throw new Error(`${path}: cannot have a token and a users array`);
  if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs >= 0)) {
    throw new Error(`${path}.timeout: must be a non-negative number`);
  }
  if (opts.defaultPermissions !== undefined) {
    validateUserPermissions(opts.defaultPermissions, `${path}.default_permissions`);
  }
  const names = new Set<string>();
  const nkeys = new Set<string>();
  users.forEach((u, i) => {
    const at = `${path}.users[${i}]`;
    if (u.nkey !== undefined && u.nkey !== "") {
      if (!isValidUserNkey(u.nkey)) throw new Error(`${at}: nkey "${u.nkey}" is not a valid user public key`);
      if (u.user || u.password) throw new Error(`${at}: nkey users do not take usernames or passwords`);
      if (nkeys.has(u.nkey)) throw new Error(`${at}: duplicate nkey "${u.nkey}"`);
      nkeys.add(u.nkey);
    } else {
      if (!u.user) throw new Error(`${at}: user entry requires a user or an nkey`);
      if (names.has(u.user)) throw new Error(`${at}: duplicate user "${u.user}"`);
      names.add(u.user);
    }
    for (const t of u.allowedConnectionTypes ?? []) {
      if (!CONNECTION_TYPES.has(t.toUpperCase())) {
        throw new Error(`${at}.allowed_connection_types: invalid connection type "${t}"`);
      }
    }
    if (u.permissions !== undefined) validateUserPermissions(u.permissions, `${at}.permissions`);
  });
  if (opts.noAuthUser) {
    if (names.size === 0)
      throw new Error(`no_auth_user: "${opts.noAuthUser}" present, but users are not defined`);
    if (!names.has(opts.noAuthUser)) {
      throw new Error(`no_auth_user: "${opts.noAuthUser}" not present as user in authorization block`);
    }
  }
}

export class Authenticator implements ClientAuthenticator {
  private readonly opts: AuthOptions;
  private readonly users = new Map<string, PreparedUser>();
  private readonly nkeys = new Map<string, PreparedUser>();

  /** Throws on invalid or contradictory options (see validateAuthOptions). */
  constructor(opts: AuthOptions) {
    validateAuthOptions(opts);
    this.opts = opts;
    const defaults = opts.defaultPermissions;
    for (const entry of opts.users ?? []) {
      const prepared: PreparedUser = {
        entry,
        // Users without a permissions block inherit default_permissions; an explicit `{}` does not.
        permissions: Permissions.from(entry.permissions ?? defaults),
        connectionTypes:
          entry.allowedConnectionTypes && entry.allowedConnectionTypes.length > 0
            ? new Set(entry.allowedConnectionTypes.map((t) => t.toUpperCase()))
            : undefined,
      };
      if (entry.nkey) this.nkeys.set(entry.nkey, prepared);
      else if (entry.user) this.users.set(entry.user, prepared);
    }
  }

  /** Any credentials configured: CONNECT must authenticate and the auth timer runs (even with no_auth_user). */
  get required(): boolean {
    return Boolean(this.opts.token) || Boolean(this.opts.user) || this.users.size > 0 || this.nkeys.size > 0;
  }

  /** INFO `auth_required`: omitted when no_auth_user lets credential-less clients in. */
  get advertiseRequired(): boolean {
    return this.required && !this.opts.noAuthUser;
  }

  /** no_auth_user configured: credential-less clients (and ops before CONNECT) act as that user. */
  get hasNoAuthUser(): boolean {
    return Boolean(this.opts.noAuthUser);
  }

  /** INFO must carry a nonce (nkey users configured). */
  get needsNonce(): boolean {
    return this.nkeys.size > 0;
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  }

  /** 11 random bytes, base64url without padding (15 characters), for INFO `nonce`. */
  makeNonce(): string {
    return randomBytes(11).toString("base64url");
  }

  /**
   * Checks CONNECT credentials. `nonce` is the one sent in this connection's INFO; `connectionType` is
   * matched against allowed_connection_types. Resolves undefined for "Authorization Violation".
   */
  async authenticate(
    creds: ConnectCredentials,
    nonce: string | undefined,
    connectionType: string = DEFAULT_CONNECTION_TYPE,
  ): Promise<AuthResult | undefined> {
    if (!this.required) return { user: undefined, account: GLOBAL_ACCOUNT, permissions: undefined };
    const type = connectionType.toUpperCase();

    // An nkey in CONNECT is only considered when nkey users exist; then it decides alone (user/pass ignored).
    if (this.nkeys.size > 0 && creds.nkey) {
      const u = this.nkeys.get(creds.nkey);
      if (u === undefined || !typeAllowed(u, type)) return undefined;
      if (!nonce || !creds.sig || !verifyNonceSignature(creds.nkey, nonce, creds.sig)) return undefined;
      return result(u, undefined, creds.nkey);
    }

    if (this.users.size > 0) {
      // verify_and_map: the certificate decides who this is.
      if (creds.tlsMap !== undefined) {
        const allowed = new Set<string>();
        for (const [name, u] of this.users) if (typeAllowed(u, type)) allowed.add(name);
        const name = creds.tlsMap(allowed);
        const u = name === undefined ? undefined : this.users.get(name);
        return u === undefined ? undefined : result(u, name);
      }
      // no_auth_user applies only when the client sent no user, password or token.
      if (!creds.user && !creds.pass && !creds.auth_token && this.opts.noAuthUser) {
        const u = this.users.get(this.opts.noAuthUser);
        return u !== undefined && typeAllowed(u, type) ? result(u, u.entry.user) : undefined;
      }
      if (!creds.user) return undefined;
      const u = this.users.get(creds.user);
      if (u === undefined || !typeAllowed(u, type)) return undefined;
      if (!(await secretMatches(u.entry.password ?? "", creds.pass ?? ""))) return undefined;
      return result(u, creds.user);
    }

    if (this.opts.token) {
      if (!(await secretMatches(this.opts.token, creds.auth_token ?? ""))) return undefined;
      return { user: undefined, account: GLOBAL_ACCOUNT, permissions: undefined };
    }

    if (this.opts.user) {
      if (creds.user !== this.opts.user) return undefined;
      if (!(await secretMatches(this.opts.password ?? "", creds.pass ?? ""))) return undefined;
      // As in nats-server, default_permissions do not apply to the single configured user.
      return { user: this.opts.user, account: GLOBAL_ACCOUNT, permissions: undefined };
    }
    return undefined;
  }

  /** Permissions of a configured user (for tests/monitoring); undefined when unrestricted or unknown. */
  permissionsOf(userOrNkey: string): Permissions | undefined {
    return (this.users.get(userOrNkey) ?? this.nkeys.get(userOrNkey))?.permissions;
  }
}

function typeAllowed(u: PreparedUser, type: string): boolean {
  return u.connectionTypes === undefined || u.connectionTypes.has(type);
}

function result(u: PreparedUser, user: string | undefined, nkey?: string): AuthResult {
  const r: AuthResult = { user, account: u.entry.account ?? GLOBAL_ACCOUNT, permissions: u.permissions };
  if (nkey !== undefined) r.nkey = nkey;
  return r;
}
