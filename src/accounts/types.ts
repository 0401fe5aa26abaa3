// Shapes of the multi-tenancy options: config-file accounts (`accounts { }`) and operator mode
// (`operator`, `resolver`, `resolver_preload`, `trusted_keys`). Produced by ./config.ts, consumed by the
// AccountManager.
import type { UserEntry, UserPermissions } from "../auth/types.js";
import type { AccountLimits } from "../jetstream/js-account.js";

export type ResponseType = "Singleton" | "Stream" | "Chunked";

export interface ExportConfig {
  readonly kind: "stream" | "service";
  /** Subject (wildcards allowed) that importers may import. */
  readonly subject: string;
  /** Accounts allowed to import; undefined = public. */
  readonly accounts: readonly string[] | undefined;
  /** Services only. */
  readonly responseType: ResponseType;
  /** How long a Stream/Chunked response mapping stays open without traffic (ms). */
  readonly responseThresholdMs: number;
  /** JWT exports: an activation token is required from importers. */
  readonly tokenRequired?: boolean;
  /** JWT exports: the subject token that must equal the importer's account key (1-based; 0 = none). */
  readonly accountTokenPosition?: number;
}

export interface ImportConfig {
  readonly kind: "stream" | "service";
  /** The exporting account's name (config) or public key (JWT). */
  readonly account: string;
  /** The subject in the exporting account. */
  readonly subject: string;
  /**
   * The subject in the importing account: a stream import delivers `subject` messages as `to` (with
   * matching wildcards); a service import listens on `to` and forwards to `subject`. Undefined = same.
   */
  readonly to: string | undefined;
  /** Stream imports: a prefix put in front of the subject (`prefix.subject`). */
  readonly prefix: string | undefined;
  /** Service imports: pass the requester's identity to the service (`Nats-Request-Info`). */
  readonly share: boolean;
  /** JWT imports of token-required exports: the activation JWT issued by the exporter. */
  readonly token?: string;
}

/** Per-account limits; -1 = unlimited. */
export interface AccountLimitsConfig {
  readonly maxConnections: number;
  readonly maxSubscriptions: number;
  readonly maxPayload: number;
  readonly maxLeafNodes: number;
}

export const UNLIMITED: AccountLimitsConfig = Object.freeze({
  maxConnections: -1,
  maxSubscriptions: -1,
  maxPayload: -1,
  maxLeafNodes: -1,
});

export interface AccountConfig {
  readonly name: string;
  /** Users of the account (each with `account` set to this account's name). */
  readonly users: UserEntry[];
  readonly exports: ExportConfig[];
  readonly imports: ImportConfig[];
  readonly limits: AccountLimitsConfig;
  /** `jetstream: enabled` or a limits map: the account has JetStream. */
  readonly jetstream: boolean;
  /** The limits map's limits; undefined = unlimited. */
  readonly jetstreamLimits: AccountLimits | undefined;
  readonly defaultPermissions: UserPermissions | undefined;
  /** The account's own public nkey, if configured. */
  readonly nkey: string | undefined;
}

export type ResolverOptions =
  | { readonly type: "memory" }
  | {
      readonly type: "full" | "cache";
      readonly dir: string;
      readonly allowDelete: boolean;
      readonly limit: number;
    };

export interface OperatorOptions {
  /** Operator JWTs (already read from files). */
  readonly operatorJwts: string[];
  /** `trusted_keys`: operator public keys trusted without a JWT. */
  readonly trustedKeys: string[];
  readonly resolver: ResolverOptions | undefined;
  /** `resolver_preload`: account public key → account JWT. */
  readonly preload: Record<string, string>;
}

/** Everything `accounts`, `operator`, `resolver`, `system_account` ... put into ServerOptions. */
export interface MultiTenancyOptions {
  accounts?: AccountConfig[];
  operator?: OperatorOptions;
  /** `system_account` (a name, or an account public key in operator mode). */
  systemAccount?: string;
  noSystemAccount?: boolean;
}

/** The system account's name when none is configured. */
export const DEFAULT_SYSTEM_ACCOUNT = "$SYS";
