// Auth callout in operator mode (nats-server 2.10): an account whose JWT has `authorization { auth_users }`
// sends every other user that authenticated into it (typically with a shared "sentinel" JWT) to its
// callout service. The response must be signed by the account or one of its signing keys (unless it came
// sealed), and the user JWT in it places the client in the account itself or one of `allowed_accounts`,
// where it is checked like any user JWT of that account.
import { DEFAULT_CONNECTION_TYPE } from "./authenticator.js";
import { denyCalloutSubject, titleCase } from "./callout.js";
import { CalloutError, type CalloutHost, callout } from "./callout-exchange.js";
import type { AccountLookup, JwtAuthenticator } from "./jwt-authenticator.js";
import { JwtError } from "./jwt-claims.js";
import { Permissions } from "./permissions.js";
import type { AuthResult, ClientAuthenticator, ConnectCredentials } from "./types.js";

function allowed(list: readonly string[], account: string): boolean {
  if (list.length === 1 && list[0] === "*") return true;
  return list.includes(account);
}

export class OperatorCalloutAuthenticator implements ClientAuthenticator {
  readonly required = true;
  readonly advertiseRequired = true;
  readonly hasNoAuthUser = false;
  readonly needsNonce = true;

  constructor(
    private readonly host: CalloutHost,
    private readonly jwt: JwtAuthenticator,
    private readonly accounts: AccountLookup,
  ) {}

  get timeoutMs(): number {
    return this.jwt.timeoutMs;
  }

  makeNonce(): string {
    return this.jwt.makeNonce();
  }

  async authenticate(
    creds: ConnectCredentials,
    nonce: string | undefined,
    connectionType: string = DEFAULT_CONNECTION_TYPE,
  ): Promise<AuthResult | undefined> {
    const first = await this.jwt.authenticate(creds, nonce, connectionType);
    if (first === undefined) return undefined;
    const ext = this.accounts.resolveAccount(first.account)?.authorization;
    if (ext === undefined || ext.authUsers.includes(first.nkey ?? "")) return first;
    try {
      return await this.authorize(first.account, ext.xkey, ext.allowedAccounts, creds, nonce, connectionType);
    } catch (err) {
      if (!(err instanceof CalloutError || err instanceof JwtError)) throw err;
      this.host.logger.warn(titleCase(err.message));
      return undefined;
    }
  }

  private async authorize(
    account: string,
    xkey: string | undefined,
    allowedAccounts: readonly string[],
    creds: ConnectCredentials,
    nonce: string | undefined,
    type: string,
  ): Promise<AuthResult> {
    const answer = await callout(this.host, {
      account,
      subject: account,
      xkey,
      timeoutMs: this.timeoutMs,
      creds,
      nonce,
      type: type.toUpperCase(),
    });
    const claims = this.accounts.resolveAccount(account);
    if (claims === undefined)
      throw new CalloutError(`no valid account "${account}" for auth callout request`);
    if (!answer.encrypted) {
      const ia = answer.response.nats.issuer_account;
      const signer = typeof ia === "string" && ia !== "" ? ia : answer.response.issuer;
      if (signer !== account && !claims.signingKeys.has(signer)) {
        throw new CalloutError("auth callout signing key is unknown");
      }
    }
    const user = answer.user;
    const target = user.issuerAccount ?? user.issuer;
    if (target !== account && !allowed(allowedAccounts, target)) {
      throw new CalloutError(
        `account "${user.issuer}" not permitted as valid account option for auth callout for account "${account}"`,
      );
    }
    const result = this.jwt.authorizeIssued(user.jwt, creds, type);
    if (result.account === account) {
      // The callout account's users may not publish the server's requests.
      const perms = result.permissions?.source ?? {};
      result.permissions = Permissions.from(denyCalloutSubject(perms));
    }
    return { ...result, nkey: answer.userKey, user: user.name || undefined };
  }
}
