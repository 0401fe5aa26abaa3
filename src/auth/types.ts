// Shapes shared by the authenticator, the permission checker and the config translation.
import type { AuthCalloutOptions } from "./callout-config.js";
import type { Permissions } from "./permissions.js";

/**
 * Subject rules for one direction. Deny always wins over allow. An absent *or empty* `allow` means "no allow
 * list" (everything not denied is allowed), as in nats-server where `publish: []` restricts nothing.
 * Subscribe entries may be `"<subject> <queue>"` to grant/deny only that queue group (queue may be a pattern).
 */
export interface PermissionRules {
  allow?: string[];
  deny?: string[];
}

/**
 * Response permission limits as used at run time: `max` <= 0 means unlimited responses per reply subject,
 * `expiresMs` <= 0 means the grant never expires. `true` means the nats-server defaults (1 response, 2 min).
 */
export interface ResponseLimits {
  max: number;
  expiresMs: number;
}

export interface UserPermissions {
  publish?: PermissionRules;
  subscribe?: PermissionRules;
  /**
   * Lets the user publish to the reply subject of messages it received. Setting it turns an absent/empty
   * publish allow list into "deny everything except responses" (nats-server semantics).
   */
  allowResponses?: boolean | ResponseLimits;
}

export interface UserEntry {
  user?: string;
  /** Plain text or a bcrypt hash (`$2a$`, `$2b$`, `$2x$`, `$2y$`). */
  password?: string;
  /** User public nkey (`U…`); nkey users take no user/password. */
  nkey?: string;
  permissions?: UserPermissions;
  account?: string;
  /** Upper-case connection kinds (STANDARD, WEBSOCKET, LEAFNODE, LEAFNODE_WS, MQTT, MQTT_WS); empty = all. */
  allowedConnectionTypes?: string[];
}

export interface AuthOptions {
  user?: string;
  password?: string;
  /** Plain text or bcrypt hash. */
  token?: string;
  users?: UserEntry[];
  /** CONNECT deadline; default 2000 ms (the server adds TLS time itself). */
  timeoutMs?: number;
  /** Top-level `no_auth_user`: clients sending no user, password or token authenticate as this user. */
  noAuthUser?: string;
  /** Applied to `users` entries without their own permissions (not to the single user or token). */
  defaultPermissions?: UserPermissions;
  /** `auth_callout { }`: an external service authorizes clients other than its auth users. */
  callout?: AuthCalloutOptions;
}

/** The credential fields of a CONNECT message, as the client sent them. */
export interface ConnectCredentials {
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
  /**
   * verify_and_map: names the user from the client's TLS certificate, given the user names allowed on this
   * connection (undefined = no match). When present, CONNECT's user and password are not consulted.
   */
  tlsMap?: (users: ReadonlySet<string>) => string | undefined;
  /** The client's IP address, for source-network (`src`) restrictions of JWT users. */
  remoteAddress?: string;
  /** The connection and what its CONNECT said about the client (for auth callout requests). */
  client?: { id?: number; name?: string; lang?: string; version?: string; protocol?: number };
}

export interface AuthResult {
  /** Username; undefined for token, nkey and no-auth connections. */
  user: string | undefined;
  /** Public nkey of an nkey user. */
  nkey?: string;
  /** Account name; "$G" unless the user entry names one. */
  account: string;
  /** Undefined means everything is allowed. */
  permissions: Permissions | undefined;
  /** JWT users: what the claims say beyond permissions (expiry, limits, identity for monitoring). */
  jwt?: JwtUserGrant;
}

/** What a verified user JWT grants a connection (operator mode). */
export interface JwtUserGrant {
  /** The user JWT as the client sent it. */
  readonly token: string;
  /** The key that signed the user JWT (the account or one of its signing keys). */
  readonly issuerKey: string;
  /** The user JWT's `name`. */
  readonly nameTag: string;
  readonly tags: readonly string[];
  /** The user JWT's `iat` (seconds): revocations apply to users issued at or before their time. */
  readonly issuedAt: number;
  /** Epoch ms at which the connection must end (JWT expiry, end of an allowed time window); undefined = never. */
  readonly expiresAt: number | undefined;
  /** Per-connection limits after combining user and account limits; -1 = unlimited. */
  readonly maxSubscriptions: number;
  readonly maxPayload: number;
}

/** Raised by an authenticator to refuse a client with a specific error rather than the generic violation. */
export class AuthRefusal extends Error {
  constructor(
    /** The `-ERR` text sent before closing. */
    readonly errText: string,
    /** The close reason shown by /connz. */
    readonly reason: string,
  ) {
    super(errText);
  }
}

/**
 * What a client connection needs from whoever checks CONNECT credentials: the configured-users
 * Authenticator, or the operator-mode JwtAuthenticator.
 */
export interface ClientAuthenticator {
  /** CONNECT must authenticate and the auth timer runs. */
  readonly required: boolean;
  /** INFO `auth_required`. */
  readonly advertiseRequired: boolean;
  /** Credential-less clients act as a configured user. */
  readonly hasNoAuthUser: boolean;
  /** INFO must carry a nonce. */
  readonly needsNonce: boolean;
  readonly timeoutMs: number;
  makeNonce(): string;
  /** Resolves undefined for "Authorization Violation"; may reject with an AuthRefusal. */
  authenticate(
    creds: ConnectCredentials,
    nonce: string | undefined,
    connectionType?: string,
  ): Promise<AuthResult | undefined>;
}
