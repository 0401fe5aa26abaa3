// Operator mode (decentralized auth): a client proves who it is with a user JWT issued by an account (or
// one of the account's signing keys), and by signing the INFO nonce with the user's nkey unless the JWT is
// a bearer token. The account's JWT, issued by a trusted operator, comes from the resolver.
import { randomBytes } from "node:crypto";
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { DEFAULT_AUTH_TIMEOUT_MS, DEFAULT_CONNECTION_TYPE, verifyNonceSignature } from "./authenticator.js";
import {
  type AccountClaims,
  decodeUserJwt,
  JwtError,
  NO_LIMIT,
  type TimeRange,
  type UserTemplate,
  validityProblem,
} from "./jwt-claims.js";
import { Permissions } from "./permissions.js";
import type { AuthResult, ClientAuthenticator, ConnectCredentials, JwtUserGrant } from "./types.js";

/** Where the authenticator finds accounts: verified claims of a trusted account, or undefined. */
export interface AccountLookup {
  resolveAccount(key: string): AccountClaims | undefined;
}

export interface JwtAuthenticatorOptions {
  timeoutMs?: number;
  /** Server limits the per-connection limits never exceed (0 = unlimited, as in the config). */
  maxPayload: number;
  maxSubscriptions: number;
  /** Debug logging of why a JWT was refused (clients only ever see "Authorization Violation"). */
  log?: (msg: string) => void;
}

export class JwtAuthenticator implements ClientAuthenticator {
  readonly required = true;
  readonly advertiseRequired = true;
  readonly hasNoAuthUser = false;
  readonly needsNonce = true;

  constructor(
    private readonly accounts: AccountLookup,
    private readonly opts: JwtAuthenticatorOptions,
  ) {}

  get timeoutMs(): number {
    return this.opts.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  }

  makeNonce(): string {
    return randomBytes(11).toString("base64url");
  }

  async authenticate(
    creds: ConnectCredentials,
    nonce: string | undefined,
    connectionType: string = DEFAULT_CONNECTION_TYPE,
  ): Promise<AuthResult | undefined> {
    try {
      return this.check(creds, nonce, connectionType.toUpperCase(), Date.now());
    } catch (err) {
      if (err instanceof JwtError) {
        this.opts.log?.(err.message);
        return undefined;
      }
      throw err;
    }
  }

  /**
   * A user JWT an auth callout service issued for this connection: checked like a presented one, except
   * that the client holds no key to prove it by. Throws JwtError.
   */
  authorizeIssued(userJwt: string, creds: ConnectCredentials, connectionType: string): AuthResult {
    return this.check({ ...creds, jwt: userJwt }, undefined, connectionType.toUpperCase(), Date.now(), true);
  }

  private check(
    creds: ConnectCredentials,
    nonce: string | undefined,
    type: string,
    now: number,
    issued = false,
  ): AuthResult {
    if (creds.jwt === undefined || creds.jwt === "") throw new JwtError("no user jwt in CONNECT");
    const user = decodeUserJwt(creds.jwt);
    const problem = validityProblem(user, now);
    if (problem !== undefined) throw new JwtError(`user jwt ${problem}`);

    const accountKey = user.issuerAccount ?? user.issuer;
    const account = this.accounts.resolveAccount(accountKey);
    if (account === undefined) throw new JwtError(`account ${accountKey} not found or not trusted`);
    const accountProblem = validityProblem(account, now);
    if (accountProblem !== undefined) throw new JwtError(`account jwt ${accountProblem}`);

    // Issued by the account itself, or by one of its signing keys (then issuer_account names the account).
    let template: UserTemplate = user;
    if (user.issuer !== account.subject) {
      if (user.issuerAccount !== account.subject || !account.signingKeys.has(user.issuer)) {
        throw new JwtError("user jwt not issued by its account or one of its signing keys");
      }
      const scope = account.signingKeys.get(user.issuer);
      if (scope) {
        if (!user.grantsNothing) throw new JwtError("scoped user jwt must not carry permissions or limits");
        // The scope's template replaces what the user JWT would grant.
        template = scope.template;
      }
    }
    if (isRevoked(account, user)) throw new JwtError("user jwt revoked");

    if (issued) {
      // Issued by the callout service for a key the server generated: nothing for the client to sign.
    } else if (template.bearer) {
      if (account.limits.disallowBearer) throw new JwtError("bearer tokens are not allowed by the account");
    } else if (!nonce || !creds.sig || !verifyNonceSignature(user.subject, nonce, creds.sig)) {
      throw new JwtError("nonce signature missing or invalid");
    }

    const types = template.allowedConnectionTypes;
    if (types.length > 0 && !types.includes(type)) throw new JwtError(`connection type ${type} not allowed`);
    if (template.src.length > 0 && !sourceAllowed(template.src, creds.remoteAddress)) {
      throw new JwtError(`source address ${creds.remoteAddress ?? "?"} not allowed`);
    }
    let expiresAt = user.expires !== undefined ? user.expires * 1000 : undefined;
    if (template.times.length > 0) {
      const windowEnd = timeWindowEnd(template.times, template.locale, now);
      if (windowEnd === undefined) throw new JwtError("outside the user's allowed connect times");
      expiresAt = expiresAt === undefined ? windowEnd : Math.min(expiresAt, windowEnd);
    }

    let perms = template.permissions;
    if (template.emptyPermissions && account.defaultPermissions !== undefined)
      perms = account.defaultPermissions;
    const grant: JwtUserGrant = {
      token: creds.jwt,
      issuerKey: user.issuer,
      nameTag: user.name,
      tags: user.tags,
      issuedAt: user.issuedAt,
      expiresAt,
      maxSubscriptions: tightest(template.subs, account.limits.subs, this.opts.maxSubscriptions || NO_LIMIT),
      maxPayload: tightest(template.payload, account.limits.payload, this.opts.maxPayload || NO_LIMIT),
    };
    return {
      user: undefined,
      nkey: user.subject,
      account: account.subject,
      permissions: Permissions.from(perms),
      jwt: grant,
    };
  }
}

/** The smallest of several limits where -1 (any negative) means unlimited. */
export function tightest(...limits: number[]): number {
  let out = NO_LIMIT;
  for (const l of limits) if (l >= 0 && (out < 0 || l < out)) out = l;
  return out;
}

/** Revoked when the account revokes this user key (or `*`) at or after the JWT's issue time. */
export function isRevoked(account: AccountClaims, user: { subject: string; issuedAt: number }): boolean {
  const t = account.revocations.get(user.subject);
  if (t !== undefined && user.issuedAt <= t) return true;
  const all = account.revocations.get("*");
  return all !== undefined && user.issuedAt <= all;
}

/** Is `address` inside one of the CIDR blocks (or single addresses)? IPv4-mapped IPv6 counts as IPv4. */
export function sourceAllowed(cidrs: readonly string[], address: string | undefined): boolean {
  if (address === undefined) return false;
  const ip = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const family = isIPv4(ip) ? "ipv4" : isIPv6(ip) ? "ipv6" : undefined;
  if (family === undefined) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split("/");
    const netFamily = isIPv4(net) ? "ipv4" : isIPv6(net) ? "ipv6" : undefined;
    if (netFamily === undefined) continue;
    if (bits === undefined) {
      list.addAddress(net, netFamily);
      continue;
    }
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (netFamily === "ipv4" ? 32 : 128)) continue;
    list.addSubnet(net, prefix, netFamily);
  }
  return list.check(ip, family);
}

function secondsOfDay(hms: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(hms.trim());
  if (!m) return undefined;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return h * 3600 + mi * 60 + s;
}

/**
 * If `now` falls inside one of the daily windows (in the `locale` time zone, local time when empty),
 * the epoch ms at which that window closes; undefined when outside every window or the zone is unknown.
 */
export function timeWindowEnd(times: readonly TimeRange[], locale: string, now: number): number | undefined {
  let nowSec: number;
  try {
    const parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: locale === "" ? undefined : locale,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date(now));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? Number.NaN);
    nowSec = get("hour") * 3600 + get("minute") * 60 + get("second");
  } catch {
    return undefined;
  }
  if (!Number.isFinite(nowSec)) return undefined;
  for (const t of times) {
    const start = secondsOfDay(t.start);
    const end = secondsOfDay(t.end);
    if (start === undefined || end === undefined) continue;
    let remaining: number | undefined;
    if (start <= end) {
      if (nowSec >= start && nowSec < end) remaining = end - nowSec;
    } else if (nowSec >= start) {
      remaining = 86_400 - nowSec + end;
    } else if (nowSec < end) {
      remaining = end - nowSec;
    }
    if (remaining !== undefined) return now + remaining * 1000;
  }
  return undefined;
}
