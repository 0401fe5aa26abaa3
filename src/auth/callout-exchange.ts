// One auth callout round trip: a fresh user key, the authorization request JWT signed by the server (sealed
// to the service's xkey when one is configured) published on `$SYS.REQ.USER.AUTH` in the callout account,
// and the service's authorization response checked for this server and user key. What the user JWT in it
// may grant is decided by the caller (config mode or operator mode).
import { randomBytes } from "node:crypto";
import type { KeyPair } from "@nats-io/nkeys";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import { type BaseClaims, decodeJwt, decodeUserJwt, type UserClaims, validityProblem } from "./jwt-claims.js";
import { jwt, nkeys } from "./lazy-libs.js";
import type { ConnectCredentials } from "./types.js";

export const AUTH_CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH";
const AUTH_REQUEST_AUDIENCE = "nats-authorization-request";
const XKEY_HEADER = "Nats-Server-Xkey";

/** What the callout needs from the server. */
export interface CalloutHost {
  readonly id: string;
  readonly name: string;
  readonly options: { readonly host: string; readonly tags: readonly string[] };
  readonly logger: { warn(msg: string): void; debug(msg: string): void };
  /** The server's identity key (signs the requests; its public key is `id`). */
  readonly serverKey: KeyPair;
  /** The server's curve key, for sealed requests and responses. */
  readonly xkey: KeyPair;
  /** An in-process client in `account` (undefined when that account does not exist). */
  calloutClient(account: string): InternalClient | undefined;
  hasAccount(name: string): boolean;
  /** Limits applied on top of the user JWT's (0 = unlimited). */
  readonly limits: { readonly maxPayload: number; readonly maxSubscriptions: number };
}

/** A refusal; the message is logged (title-cased, as nats-server does), the client sees the violation. */
export class CalloutError extends Error {}

export interface CalloutRequest {
  /** The account the service listens in. */
  readonly account: string;
  /** The request JWT's subject: the issuer (config mode) or the account. */
  readonly subject: string;
  /** The service's curve public key; undefined = plain requests. */
  readonly xkey: string | undefined;
  readonly timeoutMs: number;
  readonly creds: ConnectCredentials;
  readonly nonce: string | undefined;
  /** Upper-case connection type. */
  readonly type: string;
}

export interface CalloutAnswer {
  /** The user key the server generated: the user JWT is for it. */
  readonly userKey: string;
  readonly response: BaseClaims;
  readonly user: UserClaims;
  /** The response came sealed (operator mode then skips the signing-key check). */
  readonly encrypted: boolean;
}

/** The audience of an already verified JWT. */
export function audienceOf(token: string): string {
  const body = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as {
    aud?: unknown;
  };
  return typeof body.aud === "string" ? body.aud : "";
}

export async function callout(host: CalloutHost, req: CalloutRequest): Promise<CalloutAnswer> {
  const client = host.calloutClient(req.account);
  if (client === undefined)
    throw new CalloutError(`no valid account "${req.account}" for auth callout request`);
  const userKey = nkeys().createUser().getPublicKey();
  const request = await encodeRequest(host, req, userKey);
  const reply = `_INBOX.${randomBytes(12).toString("base64url")}`;
  const msg = await new Promise<InternalMessage | undefined>((resolve) => {
    const timer = setTimeout(() => {
      client.unsubscribe(sub);
      resolve(undefined);
    }, req.timeoutMs);
    const sub = client.subscribe(reply, (m) => {
      clearTimeout(timer);
      client.unsubscribe(sub);
      resolve({ ...m, data: Uint8Array.from(m.data) });
    });
    client.publish(AUTH_CALLOUT_SUBJECT, reply, request.data, request.headers);
  });
  if (msg === undefined) {
    throw new CalloutError(`authorization callout response not received in time on account "${req.account}"`);
  }
  return decodeAnswer(host, req, userKey, msg.data);
}

async function encodeRequest(
  host: CalloutHost,
  req: CalloutRequest,
  userKey: string,
): Promise<{ data: Uint8Array; headers: Uint8Array | undefined }> {
  const { creds, nonce, type } = req;
  const info = creds.client ?? {};
  const connectOpts: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== "") connectOpts[k] = v;
  };
  put("jwt", creds.jwt);
  put("nkey", creds.nkey);
  put("sig", creds.sig);
  put("auth_token", creds.auth_token);
  put("user", creds.user);
  put("pass", creds.pass);
  put("name", info.name);
  put("lang", info.lang);
  put("version", info.version);
  connectOpts.protocol = info.protocol ?? 0;
  const clientInfo: Record<string, unknown> = {
    host: creds.remoteAddress,
    id: info.id,
    user: creds.user,
    name: info.name,
    kind: "Client",
    type: type === "WEBSOCKET" ? "websocket" : "nats",
  };
  if (creds.sig && nonce) clientInfo.nonce = nonce;
  const serverId: Record<string, unknown> = {
    name: host.name,
    host: host.options.host,
    id: host.id,
    version: NATS_FEATURE_LEVEL,
  };
  if (host.options.tags.length > 0) serverId.tags = [...host.options.tags];
  if (req.xkey !== undefined) serverId.xkey = host.xkey.getPublicKey();
  const claim = {
    sub: req.subject,
    aud: AUTH_REQUEST_AUDIENCE,
    exp: Math.floor((Date.now() + req.timeoutMs) / 1000),
    nats: {
      server_id: serverId,
      user_nkey: userKey,
      client_info: clientInfo,
      connect_opts: connectOpts,
      type: "authorization_request",
      version: 2,
    },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the encoder takes any claims shape and key pair
  const token = await jwt().encode(jwt().Algorithms.v2, claim as any, host.serverKey as any);
  const bytes = new TextEncoder().encode(token);
  if (req.xkey === undefined) return { data: bytes, headers: undefined };
  const sealed = host.xkey.seal(bytes, req.xkey);
  const headers = new TextEncoder().encode(`NATS/1.0\r\n${XKEY_HEADER}: ${host.xkey.getPublicKey()}\r\n\r\n`);
  return { data: sealed, headers };
}

function decodeAnswer(
  host: CalloutHost,
  req: CalloutRequest,
  userKey: string,
  data: Uint8Array,
): CalloutAnswer {
  const account = req.account;
  if (data.length === 0) {
    throw new CalloutError(`auth callout violation: "no reason supplied" on account "${account}"`);
  }
  let text = Buffer.from(data).toString("utf8");
  let encrypted = false;
  if (req.xkey !== undefined && !text.startsWith("eyJ")) {
    const opened = host.xkey.open(data, req.xkey);
    if (opened === null)
      throw new CalloutError(`error decrypting auth callout response on account "${account}"`);
    text = Buffer.from(opened).toString("utf8");
    encrypted = true;
  }
  const response = decodeJwt(text.trim());
  if (response.type !== "authorization_response") throw new CalloutError("not an authorization response");
  if (validityProblem(response, Date.now()) !== undefined) {
    throw new CalloutError("authorization response had validation errors: expired");
  }
  if (response.subject !== userKey) {
    throw new CalloutError("auth callout violation: auth callout response is not for expected user");
  }
  if (audienceOf(response.jwt) !== host.id) {
    throw new CalloutError("auth callout violation: auth callout response is not for server");
  }
  const error = typeof response.nats.error === "string" ? response.nats.error : "";
  if (error !== "") throw new CalloutError(`auth callout service returned an error: ${error}`);
  const user = decodeUserJwt(typeof response.nats.jwt === "string" ? response.nats.jwt : "");
  const problem = validityProblem(user, Date.now());
  if (problem !== undefined) throw new CalloutError(`error validating user JWT: ${problem}`);
  if (user.subject !== userKey) {
    throw new CalloutError(
      `expected authorized user of "${userKey}" but got "${user.subject}" on account "${account}"`,
    );
  }
  return { userKey, response, user, encrypted };
}
