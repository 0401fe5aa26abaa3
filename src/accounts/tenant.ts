// One account's multi-tenancy state next to its subject space: where it came from (config file, JWT),
// its limits, its exports and imports, and the clients bound to it (so expiry and revocation can reach them).
import type { AccountClaims } from "../auth/jwt-claims.js";
import type { JwtUserGrant } from "../auth/types.js";
import type { Account } from "../server/account.js";
import type { ClientConnection } from "../server/client.js";
import type { Deadline } from "./deadline.js";
import type { AccountLimitsConfig, ExportConfig, ImportConfig } from "./types.js";
import { UNLIMITED } from "./types.js";

export type TenantKind = "global" | "config" | "jwt";

/** What the manager remembers about a connected client. */
export interface ClientRecord {
  readonly client: ClientConnection;
  readonly grant: JwtUserGrant | undefined;
  /** The user's public key (nkey and JWT users). */
  readonly userKey: string | undefined;
  expiryTimer: Deadline | undefined;
}

/** Something torn down when the account's imports are rebuilt (a forwarding subscription). */
export interface Detachable {
  detach(): void;
}

export class Tenant {
  readonly clients = new Map<ClientConnection, ClientRecord>();
  /** JWT accounts: the claims in force. */
  claims: AccountClaims | undefined;
  limits: AccountLimitsConfig = UNLIMITED;
  exports: readonly ExportConfig[] = [];
  imports: readonly ImportConfig[] = [];
  /** Forwarders installed for this account's imports. */
  importLinks: Detachable[] = [];
  expiryTimer: Deadline | undefined;
  /** When the claims (or config) were last applied. */
  updated = new Date();

  constructor(
    readonly account: Account,
    readonly kind: TenantKind,
  ) {}

  get name(): string {
    return this.account.name;
  }

  /** True once a JWT account's expiry has passed. */
  get expired(): boolean {
    const exp = this.claims?.expires;
    return exp !== undefined && exp * 1000 <= Date.now();
  }
}
