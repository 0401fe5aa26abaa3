// Shapes shared by the authenticator, the permission checker and the config translation.
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
}
