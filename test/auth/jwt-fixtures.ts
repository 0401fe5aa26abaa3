// Operator-mode fixtures made at test time: operator, accounts and users with @nats-io/nkeys and the
// encode helpers of @nats-io/jwt; never checked-in keys.

import type { Account as AccountData, User } from "@nats-io/jwt";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";

/** Limits nsc writes for an unrestricted account (absent fields mean 0 in version 2 JWTs). */
export const OPEN_LIMITS = { conn: -1, subs: -1, payload: -1, data: -1, imports: -1, exports: -1, leaf: -1 };

export function seedOf(kp: KeyPair): Uint8Array {
  return kp.getSeed();
}

export interface TestAccount {
  readonly kp: KeyPair;
  readonly key: string;
  jwt: string;
}

export class Operator {
  readonly kp = createOperator();
  readonly signingKey = createOperator();
  readonly accounts = new Map<string, TestAccount>();
  jwt = "";
  system: TestAccount | undefined;

  static async create(opts: { system?: boolean } = {}): Promise<Operator> {
    const o = new Operator();
    if (opts.system) o.system = await o.account("SYS");
    o.jwt = await encodeOperator("O", o.kp, {
      signing_keys: [o.signingKey.getPublicKey()],
      ...(o.system ? { system_account: o.system.key } : {}),
    });
    return o;
  }

  /** An account signed by the operator (or its signing key), with nsc's open limits unless overridden. */
  async account(
    name: string,
    data: Partial<AccountData> = {},
    enc: { exp?: number; bySigningKey?: boolean } = {},
  ): Promise<TestAccount> {
    const kp = createAccount();
    const jwt = await encodeAccount(
      name,
      kp,
      { limits: OPEN_LIMITS, ...data },
      { signer: enc.bySigningKey ? this.signingKey : this.kp, exp: enc.exp },
    );
    const a = { kp, key: kp.getPublicKey(), jwt };
    this.accounts.set(name, a);
    return a;
  }

  /** Re-issue an account JWT (a claims update). */
  async reissue(a: TestAccount, name: string, data: Partial<AccountData>, exp?: number): Promise<string> {
    a.jwt = await encodeAccount(name, a.kp, { limits: OPEN_LIMITS, ...data }, { signer: this.kp, exp });
    return a.jwt;
  }

  /** Server config for this operator with a MEMORY resolver preloaded with every account so far. */
  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const preload: Record<string, string> = {};
    for (const a of this.accounts.values()) preload[a.key] = a.jwt;
    return {
      operator: this.jwt,
      resolver: "MEMORY",
      resolver_preload: preload,
      ...(this.system ? { system_account: this.system.key } : {}),
      ...extra,
    };
  }
}

export interface TestUser {
  readonly kp: KeyPair;
  readonly jwt: string;
  readonly seed: Uint8Array;
  readonly creds: Uint8Array;
}

export async function user(
  issuer: KeyPair,
  data: Partial<User> = {},
  opts: { exp?: number; name?: string; issuerAccount?: string; scoped?: boolean } = {},
): Promise<TestUser> {
  const kp = createUser();
  const jwt = await encodeUser(
    opts.name ?? "U",
    kp,
    issuer,
    { ...(opts.issuerAccount ? { issuer_account: opts.issuerAccount } : {}), ...data },
    // Scoped users carry no limits at all (the signing key's template sets them).
    { exp: opts.exp, scopedUser: opts.scoped },
  );
  return { kp, jwt, seed: kp.getSeed(), creds: fmtCreds(jwt, kp) };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A JWT string with its claims replaced (the signature no longer matches). */
export function tamper(jwt: string, change: (claims: Record<string, unknown>) => void): string {
  const [h, b, s] = jwt.split(".");
  const claims = JSON.parse(Buffer.from(b, "base64url").toString("utf8")) as Record<string, unknown>;
  change(claims);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
}

/** A JWT with another header (e.g. an algorithm NATS does not use), keeping body and signature. */
export function withHeader(jwt: string, header: Record<string, unknown>): string {
  const [, b, s] = jwt.split(".");
  return `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${b}.${s}`;
}

export function isAuthError(err: unknown): boolean {
  return /authorization violation/i.test(String((err as Error)?.message ?? err));
}
