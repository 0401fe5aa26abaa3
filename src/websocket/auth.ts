// Authentication of websocket clients: `websocket { authorization { user, password, token, timeout },
// no_auth_user }`. As in nats-server, a websocket user, token or no_auth_user overrides the server's
// single user/token and no_auth_user for websocket clients (the users and nkeys lists stay shared), and the
// websocket timeout replaces the auth timeout.
import { Authenticator } from "../auth/authenticator.js";
import type { AuthOptions, ClientAuthenticator } from "../auth/types.js";
import type { ServerOptions, WebSocketOptions } from "../server/options.js";

/** The only fields a websocket authorization block takes. */
const SIMPLE_FIELDS = new Set<keyof AuthOptions>(["user", "password", "token", "timeoutMs"]);

const FIELD_NAMES: Partial<Record<keyof AuthOptions, string>> = {
  users: "users",
  defaultPermissions: "default_permissions",
  noAuthUser: "no_auth_user",
  callout: "auth_callout",
};

/** Does the websocket block replace the server's credentials for websocket clients? */
export function webSocketAuthOverride(ws: WebSocketOptions): boolean {
  return Boolean(ws.authorization?.user || ws.authorization?.token || ws.noAuthUser);
}

/** Startup checks, with nats-server's messages. Throws Error. */
export function validateWebSocketAuth(opts: ServerOptions): void {
  const ws = opts.websocket;
  if (ws === undefined) return;
  const a = ws.authorization ?? {};
  for (const [k, v] of Object.entries(a)) {
    if (v !== undefined && !SIMPLE_FIELDS.has(k as keyof AuthOptions)) {
      throw new Error(`websocket.authorization: unknown field "${FIELD_NAMES[k as keyof AuthOptions] ?? k}"`);
    }
  }
  const users = opts.authorization?.users ?? [];
  if (ws.noAuthUser) {
    if (opts.operator !== undefined) throw new Error("no_auth_user not compatible with Trusted Operator");
    if (users.length === 0) {
      throw new Error(`no_auth_user: "${ws.noAuthUser}" present, but users/nkeys are not defined`);
    }
    if (!users.some((u) => u.user === ws.noAuthUser)) {
      throw new Error(
        `no_auth_user: "${ws.noAuthUser}" not present as user or nkey in authorization block or account configuration`,
      );
    }
  }
  if (users.length > 0) {
    if (a.user)
      throw new Error("websocket authentication username not compatible with presence of users/nkeys");
    if (a.token)
      throw new Error("websocket authentication token not compatible with presence of users/nkeys");
  }
}

/** Keeps another authenticator's rules with the websocket auth timeout. */
class WithTimeout implements ClientAuthenticator {
  constructor(
    private readonly base: ClientAuthenticator,
    readonly timeoutMs: number,
  ) {}
  get required(): boolean {
    return this.base.required;
  }
  get advertiseRequired(): boolean {
    return this.base.advertiseRequired;
  }
  get hasNoAuthUser(): boolean {
    return this.base.hasNoAuthUser;
  }
  get needsNonce(): boolean {
    return this.base.needsNonce;
  }
  makeNonce(): string {
    return this.base.makeNonce();
  }
  authenticate(
    ...args: Parameters<ClientAuthenticator["authenticate"]>
  ): ReturnType<ClientAuthenticator["authenticate"]> {
    return this.base.authenticate(...args);
  }
}

/** An override always requires authentication: INFO says so even when no_auth_user lets clients in. */
class Overriding extends Authenticator {
  override get advertiseRequired(): boolean {
    return true;
  }
}

/**
 * The authenticator for websocket clients, given the server's (`base`). Operator mode keeps the JWT
 * rules; otherwise the websocket block's overrides apply.
 */
export function webSocketAuthenticator(
  opts: ServerOptions,
  base: ClientAuthenticator | undefined,
): ClientAuthenticator | undefined {
  const ws = opts.websocket;
  if (ws === undefined || opts.operator !== undefined) return base;
  const a = ws.authorization ?? {};
  const timeoutMs = a.timeoutMs || undefined;
  if (!webSocketAuthOverride(ws)) {
    return base !== undefined && timeoutMs !== undefined ? new WithTimeout(base, timeoutMs) : base;
  }
  const main = opts.authorization ?? {};
  return new Overriding({
    users: main.users,
    defaultPermissions: main.defaultPermissions,
    user: a.user,
    password: a.password,
    token: a.token,
    noAuthUser: ws.noAuthUser,
    timeoutMs: timeoutMs ?? base?.timeoutMs ?? main.timeoutMs,
  });
}
