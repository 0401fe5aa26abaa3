// The account registry: builds accounts from the config file or, in operator mode, from JWTs found through
// the resolver; admits authenticated clients into them (limits, expiry); applies account JWT updates
// (revocations, limits, signing keys); and wires imports/exports between accounts.
import { isRevoked, JwtAuthenticator, tightest } from "../auth/jwt-authenticator.js";
import {
  type AccountClaims,
  decodeAccountJwt,
  decodeOperatorJwt,
  JwtError,
  NO_LIMIT,
  validityProblem,
} from "../auth/jwt-claims.js";
import { AuthRefusal, type AuthResult, type JwtUserGrant } from "../auth/types.js";
import type { Logger } from "../logger.js";
import type { MonitoredServer } from "../monitor/types.js";
import {
  ERR_ACCOUNT_AUTHENTICATION_EXPIRED,
  ERR_MAXIMUM_ACCOUNT_ACTIVE_CONNECTIONS_EXCEEDED,
  ERR_USER_AUTHENTICATION_EXPIRED,
  ERR_USER_AUTHENTICATION_REVOKED,
} from "../protocol/errors.js";
import { Account, GLOBAL_ACCOUNT } from "../server/account.js";
import type { ClientConnection } from "../server/client.js";
import { CloseReason } from "../server/close-reason.js";
import type { InternalClient } from "../server/internal-client.js";
import type { ServerOptions } from "../server/options.js";
import type { Router } from "../server/router.js";
import { type MappingConfig, mappingProblem, type WithMappings } from "../subjects/mapping.js";
import { Deadline } from "./deadline.js";
import { ImportWiring } from "./imports.js";
import { type AccountResolver, createResolver } from "./resolver.js";
import { SystemServices } from "./system.js";
import { type ClientRecord, Tenant } from "./tenant.js";
import {
  type AccountLimitsConfig,
  DEFAULT_SYSTEM_ACCOUNT,
  type ExportConfig,
  type ImportConfig,
} from "./types.js";

/** The parts of the server the account registry works with (Server satisfies it). */
export interface AccountHost extends MonitoredServer {
  readonly logger: Logger;
  readonly accounts: Map<string, Account>;
  readonly globalAccount: Account;
  readonly router: Router;
  readonly jetStreamEnabled: boolean;
  createInternalClient(name: string, account?: Account): InternalClient;
  /** A new account exists (the cluster starts following its interest). */
  accountAdded?(account: Account): void;
  /** The INFO JSON a client got (used to re-announce a smaller max_payload). */
  infoJson(client: ClientConnection, extra?: Record<string, unknown>): string;
}

/** Outcome of an account JWT update, as the claim-update reply reports it. */
export interface ClaimsUpdateResult {
  readonly code: number;
  readonly message: string;
}

export interface AdmissionListener {
  clientAdmitted(client: ClientConnection, tenant: Tenant): void;
  clientLeft(client: ClientConnection, tenant: Tenant, grant: JwtUserGrant | undefined): void;
  /** A client was refused at CONNECT (`$SYS.SERVER.<id>.CLIENT.AUTH.ERR`). */
  authFailed(client: ClientConnection): void;
}

export class AccountManager {
  readonly tenants = new Map<string, Tenant>();
  /** Operator mode only. */
  readonly jwtAuthenticator: JwtAuthenticator | undefined;
  readonly resolver: AccountResolver | undefined;
  /** Operator and operator signing keys whose account JWTs are trusted. */
  readonly trustedKeys = new Set<string>();
  /** The system account's name (a public key in operator mode); undefined with no_system_account. */
  readonly systemAccountName: string | undefined;
  readonly imports: ImportWiring;
  private listener: AdmissionListener | undefined;
  private readonly tenantListeners: Array<(t: Tenant) => undefined | Promise<void>> = [];
  /** Work listeners started for the latest changes (see `settled`). */
  private pending: Promise<unknown>[] = [];
  private system: SystemServices | undefined;
  private readonly log: Logger;

  constructor(private readonly host: AccountHost) {
    const o = host.options;
    this.log = host.logger;
    // In operator mode an exporting account is loaded from the resolver when an import names it.
    this.imports = new ImportWiring(
      host.router,
      (name) => {
        const t = this.tenants.get(name);
        if (t !== undefined || !this.operatorMode) return t;
        return this.resolveAccount(name) === undefined ? undefined : this.tenants.get(name);
      },
      this.log,
    );
    this.tenants.set(GLOBAL_ACCOUNT, new Tenant(host.globalAccount, "global"));
    this.setMappings(host.globalAccount, (o as WithMappings).mappings);

    if (o.operator !== undefined) {
      // The first operator JWT naming a system account names it, unless the config does.
      let operatorSystem: string | undefined;
      for (const token of o.operator.operatorJwts) {
        const op = decodeOperatorJwt(token);
        this.trustedKeys.add(op.subject);
        for (const k of op.signingKeys) this.trustedKeys.add(k);
        operatorSystem ??= op.systemAccount;
      }
      for (const k of o.operator.trustedKeys) this.trustedKeys.add(k);
      this.resolver = createResolver(o.operator.resolver ?? { type: "memory" }, o.operator.preload);
      const timeoutMs = o.authorization?.timeoutMs ?? (o.tls ? o.tls.timeoutMs + 1000 : undefined);
      this.jwtAuthenticator = new JwtAuthenticator(this, {
        timeoutMs,
        maxPayload: o.maxPayload,
        maxSubscriptions: o.maxSubscriptions,
        log: (m) => this.log.debug(`JWT authentication failed: ${m}`),
      });
      this.systemAccountName = o.noSystemAccount ? undefined : (o.systemAccount ?? operatorSystem);
      if (this.systemAccountName !== undefined && this.resolveAccount(this.systemAccountName) === undefined) {
        // No JWT for it: the system account still exists for the server's own services.
        this.register(this.systemAccountName, "jwt");
      }
    } else {
      for (const cfg of o.accounts ?? []) {
        const t = this.register(cfg.name, "config");
        t.limits = cfg.limits;
        t.exports = cfg.exports;
        t.imports = cfg.imports;
        this.setMappings(t.account, (cfg as WithMappings).mappings);
      }
      this.systemAccountName = o.noSystemAccount ? undefined : (o.systemAccount ?? DEFAULT_SYSTEM_ACCOUNT);
      if (this.systemAccountName !== undefined && !this.tenants.has(this.systemAccountName)) {
        this.register(this.systemAccountName, "config");
      }
      for (const t of this.tenants.values()) this.imports.wire(t);
    }
  }

  /**
   * Calls `listener` for every account registered or whose JWT claims change from now on (the JetStream
   * engine follows JWT accounts this way). Returns a function that stops the calls.
   */
  onTenantChange(listener: (t: Tenant) => undefined | Promise<void>): () => void {
    this.tenantListeners.push(listener);
    return () => {
      const i = this.tenantListeners.indexOf(listener);
      if (i >= 0) this.tenantListeners.splice(i, 1);
    };
  }

  private changed(t: Tenant): void {
    for (const l of this.tenantListeners.slice()) {
      const work = l(t);
      if (work !== undefined) this.pending.push(work.catch(() => {}));
    }
  }

  /** Resolves once listeners finished acting on the changes so far (a claim update is then in force). */
  async settled(): Promise<void> {
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }

  get operatorMode(): boolean {
    return this.jwtAuthenticator !== undefined;
  }

  get systemAccount(): Account | undefined {
    return this.systemAccountName === undefined
      ? undefined
      : this.tenants.get(this.systemAccountName)?.account;
  }

  tenantOf(account: Account | undefined): Tenant | undefined {
    return account === undefined ? undefined : this.tenants.get(account.name);
  }

  private register(name: string, kind: Tenant["kind"]): Tenant {
    let account = this.host.accounts.get(name);
    if (account === undefined) {
      account = new Account(name);
      this.host.accounts.set(name, account);
    }
    const t = new Tenant(account, kind);
    this.tenants.set(name, t);
    this.system?.accountAdded(account);
    this.host.accountAdded?.(account);
    return t;
  }

  /**
   * Operator mode: the verified claims of account `key`, loading (and registering) the account from the
   * resolver on first use. Undefined when unknown, malformed or not issued by a trusted operator.
   */
  resolveAccount(key: string): AccountClaims | undefined {
    const known = this.tenants.get(key);
    if (known?.claims !== undefined) return known.claims;
    if (this.resolver === undefined) return undefined;
    const token = this.resolver.fetch(key);
    if (token === undefined) return undefined;
    let claims: AccountClaims;
    try {
      claims = this.verifyAccountJwt(key, token);
    } catch (err) {
      this.log.warn(`Account ${key}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const t = known ?? this.register(key, "jwt");
    this.applyClaims(t, claims);
    this.changed(t);
    return claims;
  }

  /** An account's subject mappings; cluster-scoped destinations follow this server's cluster name. */
  private setMappings(account: Account, mappings: readonly MappingConfig[] | undefined): void {
    account.setMappings(mappings ?? [], () => this.host.cluster?.clusterName);
  }

  private verifyAccountJwt(key: string, token: string): AccountClaims {
    const claims = decodeAccountJwt(token);
    if (claims.subject !== key) throw new JwtError(`JWT subject ${claims.subject} does not match`);
    if (!this.trustedKeys.has(claims.issuer)) throw new JwtError(`issuer ${claims.issuer} is not trusted`);
    return claims;
  }

  /** Applies (new) account claims: limits, exports/imports, expiry, and what they mean for live clients. */
  private applyClaims(t: Tenant, claims: AccountClaims): void {
    t.claims = claims;
    t.updated = new Date();
    t.limits = limitsFromClaims(claims);
    t.exports = claims.exports.map(
      (e): ExportConfig => ({
        kind: e.type,
        subject: e.subject,
        accounts: undefined,
        responseType: e.responseType,
        responseThresholdMs: e.responseThresholdMs > 0 ? e.responseThresholdMs : 120_000,
        tokenRequired: e.tokenRequired,
        accountTokenPosition: e.accountTokenPosition,
      }),
    );
    t.imports = claims.imports.map(
      (i): ImportConfig => ({
        kind: i.type,
        account: i.account,
        subject: i.subject,
        // JWT stream imports: local_subject remaps, the older `to` is a prefix; service imports: both
        // name the local subject.
        to: i.localSubject ?? (i.type === "service" ? i.to : undefined),
        prefix: i.type === "stream" && i.localSubject === undefined ? i.to : undefined,
        share: i.share,
        token: i.token,
      }),
    );
    // Mappings nats-server would refuse are left out (it ignores them too), with a warning.
    const mappings = claims.mappings.filter((m) => {
      const problem = mappingProblem(m);
      if (problem !== undefined)
        this.log.warn(`Account ${t.name}: mapping for "${m.source}" ignored: ${problem}`);
      return problem === undefined;
    });
    this.setMappings(t.account, mappings);
    t.expiryTimer?.cancel();
    t.expiryTimer = undefined;
    if (claims.expires !== undefined) {
      t.expiryTimer = new Deadline(claims.expires * 1000, () => this.accountExpired(t));
    }
    this.imports.wire(t);
    // Other accounts importing from this one: their imports follow its (new) exports.
    for (const other of this.tenants.values()) {
      if (other !== t && other.imports.some((i) => i.account === t.name)) this.imports.wire(other);
    }
    // Live clients: revoked users and users of removed signing keys leave.
    for (const rec of [...t.clients.values()]) {
      const g = rec.grant;
      if (g === undefined) continue;
      const userKey = rec.userKey ?? "";
      const keyGone = g.issuerKey !== claims.subject && !claims.signingKeys.has(g.issuerKey);
      if (keyGone || isRevoked(claims, { subject: userKey, issuedAt: g.issuedAt })) {
        rec.client.close(CloseReason.Revocation, ERR_USER_AUTHENTICATION_REVOKED);
      }
    }
    const max = t.limits.maxConnections;
    if (max >= 0 && t.clients.size > max) {
      // Over the new limit: the most recent connections go.
      const excess = [...t.clients.keys()].slice(max);
      for (const c of excess) {
        c.close(CloseReason.MaxAccountConnectionsExceeded, ERR_MAXIMUM_ACCOUNT_ACTIVE_CONNECTIONS_EXCEEDED);
      }
    }
  }

  private accountExpired(t: Tenant): void {
    this.log.info(`Account ${t.name} JWT expired`);
    for (const c of [...t.clients.keys()]) {
      c.close(CloseReason.AuthenticationExpired, ERR_ACCOUNT_AUTHENTICATION_EXPIRED);
    }
  }

  /**
   * A pushed account JWT (`$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE`): verified, stored in the resolver and,
   * when the account is in use, applied at once.
   */
  updateClaims(key: string, token: string): ClaimsUpdateResult {
    if (this.resolver === undefined) return { code: 500, message: "no resolver configured" };
    let claims: AccountClaims;
    try {
      claims = this.verifyAccountJwt(key, token.trim());
    } catch (err) {
      return {
        code: 400,
        message: `jwt validation failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const current = this.tenants.get(key)?.claims;
    if (current !== undefined && claims.issuedAt < current.issuedAt) {
      return { code: 400, message: "jwt update rejected: older than the current jwt" };
    }
    this.resolver.store(key, token.trim());
    const t = this.tenants.get(key);
    if (t !== undefined) {
      this.applyClaims(t, claims);
      this.changed(t);
    }
    this.log.info(`Account ${key} JWT updated`);
    return { code: 200, message: "jwt updated" };
  }

  /**
   * A client authenticated into `client.account`: enforce the account's connection limit, set the
   * connection's subscription and payload limits and its expiry. Returns a refusal to close it with.
   */
  admit(client: ClientConnection, result: AuthResult | undefined): AuthRefusal | undefined {
    const t = this.tenantOf(client.account);
    if (t === undefined) return undefined;
    if (t.claims !== undefined && validityProblem(t.claims, Date.now()) === "expired") {
      return new AuthRefusal(ERR_ACCOUNT_AUTHENTICATION_EXPIRED, CloseReason.AuthenticationExpired);
    }
    const max = t.limits.maxConnections;
    if (max >= 0 && t.clients.size >= max) {
      return new AuthRefusal(
        ERR_MAXIMUM_ACCOUNT_ACTIVE_CONNECTIONS_EXCEEDED,
        CloseReason.MaxAccountConnectionsExceeded,
      );
    }
    const grant = result?.jwt;
    const o = this.host.options;
    const serverSubs = o.maxSubscriptions > 0 ? o.maxSubscriptions : NO_LIMIT;
    const subs = tightest(grant?.maxSubscriptions ?? NO_LIMIT, t.limits.maxSubscriptions, serverSubs);
    if (subs !== serverSubs) client.maxSubscriptions = subs;
    const payload = tightest(grant?.maxPayload ?? NO_LIMIT, t.limits.maxPayload, o.maxPayload);
    if (payload !== o.maxPayload && payload >= 0) {
      client.parser.setLimits({ maxPayload: payload });
      // Clients check max_payload before publishing: tell them the smaller figure (not for 0, as nats-server).
      // Only clients speaking protocol 1 take INFO updates.
      if (payload > 0 && (client.connect?.protocol ?? 0) >= 1) {
        const info = JSON.parse(this.host.infoJson(client)) as Record<string, unknown>;
        info.max_payload = payload;
        delete info.nonce;
        client.sendProto(`INFO ${JSON.stringify(info)}\r\n`);
      }
    }
    const rec: ClientRecord = { client, grant, userKey: result?.nkey, expiryTimer: undefined };
    if (grant?.expiresAt !== undefined) {
      rec.expiryTimer = new Deadline(grant.expiresAt, () => {
        client.close(CloseReason.AuthenticationExpired, ERR_USER_AUTHENTICATION_EXPIRED);
      });
    }
    t.clients.set(client, rec);
    this.listener?.clientAdmitted(client, t);
    return undefined;
  }

  /** A connection ended: forget it (admitted clients only). */
  clientClosed(client: ClientConnection): void {
    const t = this.tenantOf(client.account);
    const rec = t?.clients.get(client);
    if (t === undefined || rec === undefined) {
      if (client.closeReason === CloseReason.AuthenticationViolation) this.listener?.authFailed(client);
      return;
    }
    rec.expiryTimer?.cancel();
    t.clients.delete(client);
    this.listener?.clientLeft(client, t, rec.grant);
  }

  /** The grant a live JWT user connected with (/connz?auth=true). */
  grantOf(client: { readonly account?: { readonly name: string } | undefined }): JwtUserGrant | undefined {
    const t = client.account === undefined ? undefined : this.tenants.get(client.account.name);
    return t?.clients.get(client as ClientConnection)?.grant;
  }

  /** The grant a client connected with (JWT users), for events and monitoring. */
  recordOf(client: ClientConnection): ClientRecord | undefined {
    return this.tenantOf(client.account)?.clients.get(client);
  }

  /**
   * A configuration reload: config-file accounts are added or updated (limits, exports, imports, subject
   * mappings; the global account's mappings too) and every account's imports rebuilt; in operator mode,
   * preloaded account JWTs newer than the ones in use apply. Accounts that disappeared from the config
   * stay (their users no longer authenticate).
   */
  reload(next: ServerOptions): void {
    this.setMappings(this.host.globalAccount, (next as WithMappings).mappings);
    if (this.operatorMode) {
      for (const [key, jwt] of Object.entries(next.operator?.preload ?? {})) {
        const current = this.resolver?.fetch(key);
        if (current !== jwt) this.updateClaims(key, jwt);
      }
      return;
    }
    for (const cfg of next.accounts ?? []) {
      const t = this.tenants.get(cfg.name) ?? this.register(cfg.name, "config");
      t.limits = cfg.limits;
      t.exports = cfg.exports;
      t.imports = cfg.imports;
      this.setMappings(t.account, (cfg as WithMappings).mappings);
      t.updated = new Date();
      this.changed(t);
    }
    for (const t of this.tenants.values()) this.imports.wire(t);
  }

  /** Starts the system account's services (once the server listens). */
  start(): void {
    const sys = this.systemAccount;
    if (sys === undefined || this.system !== undefined) return;
    this.system = new SystemServices(this.host, this, sys);
    this.listener = this.system;
    this.system.start();
  }

  stop(): void {
    this.system?.stop();
    this.system = undefined;
    this.listener = undefined;
    this.imports.stop();
    for (const t of this.tenants.values()) {
      t.expiryTimer?.cancel();
      for (const rec of t.clients.values()) rec.expiryTimer?.cancel();
    }
  }
}

function limitsFromClaims(c: AccountClaims): AccountLimitsConfig {
  return {
    maxConnections: c.limits.conn,
    maxSubscriptions: c.limits.subs,
    maxPayload: c.limits.payload,
    maxLeafNodes: c.limits.leaf,
  };
}
