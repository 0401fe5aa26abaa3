// Auth callout in config mode (`authorization { auth_callout { } }`, nats-server 2.10): clients other than
// the auth users are authorized by the service in the callout account (see callout-exchange.ts); the user
// JWT it returns must be signed by the configured issuer, and its audience names the account to join.
import { randomBytes } from "node:crypto";
import { DEFAULT_CONNECTION_TYPE } from "./authenticator.js";
import type { AuthCalloutOptions } from "./callout-config.js";
import {
  AUTH_CALLOUT_SUBJECT,
  audienceOf,
  CalloutError,
  type CalloutHost,
  callout,
} from "./callout-exchange.js";
import { tightest } from "./jwt-authenticator.js";
import { JwtError, NO_LIMIT } from "./jwt-claims.js";
import { Permissions } from "./permissions.js";
import type { AuthResult, ClientAuthenticator, ConnectCredentials, UserPermissions } from "./types.js";

export const titleCase = (m: string) => (m === "" ? m : m[0].toUpperCase() + m.slice(1));

/** Clients placed in the callout account may not impersonate the server's requests. */
export function denyCalloutSubject(perms: UserPermissions): UserPermissions {
  const publish = perms.publish ?? {};
  return { ...perms, publish: { ...publish, deny: [...(publish.deny ?? []), AUTH_CALLOUT_SUBJECT] } };
}

export class CalloutAuthenticator implements ClientAuthenticator {
  readonly required = true;
  readonly advertiseRequired = true;
  readonly hasNoAuthUser = false;

  constructor(
    private readonly host: CalloutHost,
    private readonly cfg: AuthCalloutOptions,
    /** The configured users (auth users authenticate there). */
    private readonly base: ClientAuthenticator | undefined,
  ) {}

  get needsNonce(): boolean {
    return this.base?.needsNonce ?? false;
  }

  get timeoutMs(): number {
    return this.base?.timeoutMs ?? 2000;
  }

  makeNonce(): string {
    return this.base?.makeNonce() ?? randomBytes(11).toString("base64url");
  }

  async authenticate(
    creds: ConnectCredentials,
    nonce: string | undefined,
    connectionType: string = DEFAULT_CONNECTION_TYPE,
  ): Promise<AuthResult | undefined> {
    const userId = creds.nkey || creds.user || "";
    if (userId !== "" && this.cfg.authUsers.includes(userId)) {
      return this.base?.authenticate(creds, nonce, connectionType);
    }
    try {
      return await this.authorize(creds, nonce, connectionType.toUpperCase());
    } catch (err) {
      if (!(err instanceof CalloutError || err instanceof JwtError)) throw err;
      this.host.logger.warn(titleCase(err.message));
      return undefined;
    }
  }

  private async authorize(
    creds: ConnectCredentials,
    nonce: string | undefined,
    type: string,
  ): Promise<AuthResult> {
    const account = this.cfg.account;
    const { user, userKey } = await callout(this.host, {
      account,
      subject: this.cfg.issuer,
      xkey: this.cfg.xkey,
      timeoutMs: this.timeoutMs,
      creds,
      nonce,
      type,
    });
    if (user.issuerAccount !== undefined) {
      throw new CalloutError(`error non operator mode account "${account}": attempted to use issuer_account`);
    }
    if (user.issuer !== this.cfg.issuer) {
      throw new CalloutError(
        `wrong issuer for auth callout response on account "${account}", expected "${this.cfg.issuer}" got "${user.issuer}"`,
      );
    }
    const types = user.allowedConnectionTypes;
    if (types.length > 0 && !types.includes(type)) {
      throw new CalloutError(`authorized user on account "${account}" using invalid connection type`);
    }
    const target = audienceOf(user.jwt);
    if (!this.host.hasAccount(target)) {
      throw new CalloutError(
        `no valid account "${target}" for auth callout response on account "${account}"`,
      );
    }
    const perms = target === account ? denyCalloutSubject(user.permissions) : user.permissions;
    const l = this.host.limits;
    return {
      user: user.name || creds.user || undefined,
      nkey: userKey,
      account: target,
      permissions: Permissions.from(perms),
      jwt: {
        token: user.jwt,
        issuerKey: user.issuer,
        nameTag: user.name,
        tags: user.tags,
        issuedAt: user.issuedAt,
        expiresAt: user.expires !== undefined ? user.expires * 1000 : undefined,
        maxSubscriptions: tightest(user.subs, l.maxSubscriptions || NO_LIMIT),
        maxPayload: tightest(user.payload, l.maxPayload || NO_LIMIT),
      },
    };
  }
}
