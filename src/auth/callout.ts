// Auth callout (nats-server 2.10, config mode): a client that is not one of the auth users is described in
// an authorization request JWT signed by the server, sent to `$SYS.REQ.USER.AUTH` in the callout account;
// the service answers with an authorization response JWT for the user key the server generated, carrying
// a user JWT signed by the configured issuer whose audience names the account to place the client in.
// Optionally (xkey) the request is sealed to the service's curve key and the response may be sealed back.
import { randomBytes } from "node:crypto";
import { Algorithms, encode } from "@nats-io/jwt";
import { createCurve, createUser, type KeyPair } from "@nats-io/nkeys";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import { DEFAULT_CONNECTION_TYPE } from "./authenticator.js";
import type { AuthCalloutOptions } from "./callout-config.js";
import { tightest } from "./jwt-authenticator.js";
import { decodeJwt, decodeUserJwt, JwtError, NO_LIMIT, validityProblem } from "./jwt-claims.js";
import { Permissions } from "./permissions.js";
import type { AuthResult, ClientAuthenticator, ConnectCredentials, UserPermissions } from "./types.js";

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
  /** The callout account's in-process client (undefined when that account does not exist). */
  calloutClient(account: string): InternalClient | undefined;
  hasAccount(name: string): boolean;
  /** Limits applied on top of the user JWT's (0 = unlimited). */
  readonly limits: { readonly maxPayload: number; readonly maxSubscriptions: number };
}

class CalloutError extends Error {}

const titleCase = (m: string) => (m === "" ? m : m[0].toUpperCase() + m.slice(1));

/** The audience of an already verified JWT. */
function audienceOf(token: string): string {
  const body = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as {
    aud?: unknown;
  };
  return typeof body.aud === "string" ? body.aud : "";
}

export class CalloutAuthenticator implements ClientAuthenticator {
  readonly required = true;
  readonly advertiseRequired = true;
  readonly hasNoAuthUser = false;
  private readonly xkp: KeyPair | undefined;

  constructor(
    private readonly host: CalloutHost,
    private readonly cfg: AuthCalloutOptions,
    /** The configured users (auth users authenticate there). */
    private readonly base: ClientAuthenticator | undefined,
  ) {
    this.xkp = cfg.xkey === undefined ? undefined : createCurve();
  }

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
      return await this.callout(creds, nonce, connectionType.toUpperCase());
    } catch (err) {
      if (!(err instanceof CalloutError || err instanceof JwtError)) throw err;
      this.host.logger.warn(titleCase(err.message));
      return undefined;
    }
  }

  private async callout(
    creds: ConnectCredentials,
    nonce: string | undefined,
    type: string,
  ): Promise<AuthResult> {
    const account = this.cfg.account;
    const client = this.host.calloutClient(account);
    if (client === undefined)
      throw new CalloutError(`no valid account "${account}" for auth callout request`);
    const ukp = createUser();
    const pub = ukp.getPublicKey();
    const request = await this.request(pub, creds, nonce, type);
    const reply = `_INBOX.${randomBytes(12).toString("base64url")}`;
    const msg = await new Promise<InternalMessage | undefined>((resolve) => {
      const timer = setTimeout(() => {
        client.unsubscribe(sub);
        resolve(undefined);
      }, this.timeoutMs);
      const sub = client.subscribe(reply, (m) => {
        clearTimeout(timer);
        client.unsubscribe(sub);
        resolve({ ...m, data: Uint8Array.from(m.data) });
      });
      client.publish(AUTH_CALLOUT_SUBJECT, reply, request.data, request.headers);
    });
    if (msg === undefined) {
      throw new CalloutError(`authorization callout response not received in time on account "${account}"`);
    }
    return this.accept(msg.data, pub, type, creds);
  }

  /** The signed (and possibly sealed) authorization request. */
  private async request(
    pub: string,
    creds: ConnectCredentials,
    nonce: string | undefined,
    type: string,
  ): Promise<{ data: Uint8Array; headers: Uint8Array | undefined }> {
    const h = this.host;
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
      name: h.name,
      host: h.options.host,
      id: h.id,
      version: NATS_FEATURE_LEVEL,
    };
    if (h.options.tags.length > 0) serverId.tags = [...h.options.tags];
    if (this.xkp !== undefined) serverId.xkey = this.xkp.getPublicKey();
    const claim = {
      sub: this.cfg.issuer,
      aud: AUTH_REQUEST_AUDIENCE,
      exp: Math.floor((Date.now() + this.timeoutMs) / 1000),
      nats: {
        server_id: serverId,
        user_nkey: pub,
        client_info: clientInfo,
        connect_opts: connectOpts,
        type: "authorization_request",
        version: 2,
      },
    };
    // biome-ignore lint/suspicious/noExplicitAny: the encoder takes any claims shape
    const token = await encode(Algorithms.v2, claim as any, h.serverKey as any);
    const bytes = new TextEncoder().encode(token);
    if (this.xkp === undefined || this.cfg.xkey === undefined) return { data: bytes, headers: undefined };
    const sealed = this.xkp.seal(bytes, this.cfg.xkey);
    const headers = new TextEncoder().encode(
      `NATS/1.0\r\n${XKEY_HEADER}: ${this.xkp.getPublicKey()}\r\n\r\n`,
    );
    return { data: sealed, headers };
  }

  /** Checks the service's answer and turns the user JWT in it into the client's identity. */
  private accept(data: Uint8Array, pub: string, type: string, creds: ConnectCredentials): AuthResult {
    const account = this.cfg.account;
    if (data.length === 0) {
      throw new CalloutError(`auth callout violation: "no reason supplied" on account "${account}"`);
    }
    let text = Buffer.from(data).toString("utf8");
    if (this.xkp !== undefined && this.cfg.xkey !== undefined && !text.startsWith("eyJ")) {
      const opened = this.xkp.open(data, this.cfg.xkey);
      if (opened === null) {
        throw new CalloutError(`error decrypting auth callout response on account "${account}"`);
      }
      text = Buffer.from(opened).toString("utf8");
    }
    const response = decodeJwt(text.trim());
    if (response.type !== "authorization_response") throw new CalloutError("not an authorization response");
    if (validityProblem(response, Date.now()) !== undefined) {
      throw new CalloutError("authorization response had validation errors: expired");
    }
    if (response.subject !== pub) {
      throw new CalloutError("auth callout violation: auth callout response is not for expected user");
    }
    if (audienceOf(response.jwt) !== this.host.id) {
      throw new CalloutError("auth callout violation: auth callout response is not for server");
    }
    const error = typeof response.nats.error === "string" ? response.nats.error : "";
    if (error !== "") throw new CalloutError(`auth callout service returned an error: ${error}`);
    const userJwt = typeof response.nats.jwt === "string" ? response.nats.jwt : "";
    const user = decodeUserJwt(userJwt);
    const problem = validityProblem(user, Date.now());
    if (problem !== undefined) throw new CalloutError(`error validating user JWT: ${problem}`);
    if (user.subject !== pub) {
      throw new CalloutError(
        `expected authorized user of "${pub}" but got "${user.subject}" on account "${account}"`,
      );
    }
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
    const target = audienceOf(userJwt);
    if (!this.host.hasAccount(target)) {
      throw new CalloutError(
        `no valid account "${target}" for auth callout response on account "${account}"`,
      );
    }
    let perms: UserPermissions = user.permissions;
    if (target === account) {
      // Clients placed in the callout account may not impersonate the server's requests.
      const publish = perms.publish ?? {};
      perms = { ...perms, publish: { ...publish, deny: [...(publish.deny ?? []), AUTH_CALLOUT_SUBJECT] } };
    }
    const l = this.host.limits;
    return {
      user: user.name || creds.user || undefined,
      nkey: pub,
      account: target,
      permissions: Permissions.from(perms),
      jwt: {
        token: userJwt,
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
