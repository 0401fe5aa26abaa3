// The `authorization { auth_callout { issuer, account, auth_users, xkey } }` block (nats-server 2.10):
// clients other than the auth users are authorized by a service answering `$SYS.REQ.USER.AUTH` in
// `account`, with a user JWT signed by `issuer`.
import { isPublicKey } from "./jwt-claims.js";

export interface AuthCalloutOptions {
  /** Account public key that signs the user JWTs the service returns. */
  readonly issuer: string;
  /** Account the service listens in (`$G` when not given). */
  readonly account: string;
  /** Users that authenticate as configured, without a callout (the service's own users among them). */
  readonly authUsers: readonly string[];
  /** The service's curve public key: requests are then encrypted to it (and responses may be). */
  readonly xkey: string | undefined;
}

function isCurveKey(k: unknown): k is string {
  // Curve keys have the X prefix; the checksum is verified when the key is first used to seal.
  return typeof k === "string" && /^X[A-Z2-7]{55}$/.test(k);
}

/** Parses the block at `at`; errors use nats-server's wording. */
export function parseAuthCallout(v: unknown, at: string): AuthCalloutOptions {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error(`${at}: Expected authorization callout to be a map/struct, got ${JSON.stringify(v)}`);
  }
  let issuer = "";
  let account = "";
  let authUsers: string[] = [];
  let xkey: string | undefined;
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    switch (key.toLowerCase()) {
      case "issuer":
        if (!isPublicKey(val, "A")) {
          throw new Error(
            `${at}: Expected callout user to be a valid public account nkey, got ${JSON.stringify(val)}`,
          );
        }
        issuer = val;
        break;
      case "account":
      case "acc":
        if (typeof val !== "string") throw new Error(`${at}.account: expected a string`);
        account = val;
        break;
      case "auth_users":
      case "users":
        if (!Array.isArray(val)) throw new Error(`${at}: Expected auth_users field to be an array`);
        authUsers = val.map((u) => String(u));
        break;
      case "xkey":
      case "key":
        if (!isCurveKey(val)) {
          throw new Error(
            `${at}: Expected callout xkey to be a valid public xkey, got ${JSON.stringify(val)}`,
          );
        }
        xkey = val;
        break;
      default:
        throw new Error(`${at}: Unknown field "${key}" parsing authorization callout`);
    }
  }
  if (issuer === "") throw new Error(`${at}: Authorization callouts require an issuer to be specified`);
  if (authUsers.length === 0) {
    throw new Error(`${at}: Authorization callouts require authorized users to be specified`);
  }
  return { issuer, account: account || "$G", authUsers, xkey };
}
