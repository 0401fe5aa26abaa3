// Wires the auth callout to a server (`authorization { auth_callout { } }`, or in operator mode the accounts'
// `authorization` claims): its identity key, its accounts and in-process clients in callout accounts.

import type { KeyPair } from "@nats-io/nkeys";
import type { InternalClient } from "../server/internal-client.js";
import type { Server } from "../server/server.js";
import { CalloutAuthenticator } from "./callout.js";
import type { CalloutHost } from "./callout-exchange.js";
import { OperatorCalloutAuthenticator } from "./callout-operator.js";
import { nkeys } from "./lazy-libs.js";
import type { ClientAuthenticator } from "./types.js";

/** `base` with the configured auth callout in front of it, or `base` itself when there is none. */
export function withAuthCallout(
  server: Server,
  base: ClientAuthenticator | undefined,
): ClientAuthenticator | undefined {
  const o = server.options;
  const cfg = o.authorization?.callout;
  const jwt = server.accountManager.jwtAuthenticator;
  if (cfg === undefined && jwt === undefined) return base;
  const clients = new Map<string, InternalClient>();
  let xkey: KeyPair | undefined;
  const host: CalloutHost = {
    id: server.id,
    name: server.name,
    options: o,
    logger: server.logger,
    // Key pairs are made on first use: generating them in pure JS costs tens of milliseconds of startup.
    get serverKey() {
      return server.serverKey;
    },
    get xkey() {
      xkey ??= nkeys().createCurve();
      return xkey;
    },
    limits: { maxPayload: o.maxPayload, maxSubscriptions: o.maxSubscriptions },
    hasAccount: (name) => server.accounts.has(name),
    calloutClient(account) {
      let client = clients.get(account);
      if (client !== undefined) return client;
      const acc = server.accounts.get(account);
      if (acc === undefined) return undefined;
      client = server.createInternalClient(`auth callout ${account}`, acc);
      clients.set(account, client);
      return client;
    },
  };
  // Operator mode: accounts whose JWT asks for external authorization.
  if (jwt !== undefined) return new OperatorCalloutAuthenticator(host, jwt, server.accountManager);
  if (cfg === undefined) return base;
  if (!server.accounts.has(cfg.account)) {
    server.logger.error(`Authorization callout account "${cfg.account}" not valid`);
  }
  const configured = new Set((o.authorization?.users ?? []).map((u) => u.nkey || u.user));
  for (const u of cfg.authUsers) {
    if (!configured.has(u)) server.logger.error(`Authorization callout user "${u}" not valid`);
  }
  return new CalloutAuthenticator(host, cfg, base);
}
