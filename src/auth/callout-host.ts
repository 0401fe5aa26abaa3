// Wires the auth callout (`authorization { auth_callout { } }`) to a server: its identity key, its accounts
// and an in-process client in the callout account.

import { createCurve } from "@nats-io/nkeys";
import type { InternalClient } from "../server/internal-client.js";
import type { Server } from "../server/server.js";
import { CalloutAuthenticator } from "./callout.js";
import type { CalloutHost } from "./callout-exchange.js";
import type { ClientAuthenticator } from "./types.js";

/** `base` with the configured auth callout in front of it, or `base` itself when there is none. */
export function withAuthCallout(
  server: Server,
  base: ClientAuthenticator | undefined,
): ClientAuthenticator | undefined {
  const o = server.options;
  const cfg = o.authorization?.callout;
  if (cfg === undefined || o.operator !== undefined) return base;
  if (!server.accounts.has(cfg.account)) {
    server.logger.error(`Authorization callout account "${cfg.account}" not valid`);
  }
  const configured = new Set((o.authorization?.users ?? []).map((u) => u.nkey || u.user));
  for (const u of cfg.authUsers) {
    if (!configured.has(u)) server.logger.error(`Authorization callout user "${u}" not valid`);
  }
  let client: InternalClient | undefined;
  const host: CalloutHost = {
    id: server.id,
    name: server.name,
    options: o,
    logger: server.logger,
    serverKey: server.serverKey,
    xkey: createCurve(),
    limits: { maxPayload: o.maxPayload, maxSubscriptions: o.maxSubscriptions },
    hasAccount: (name) => server.accounts.has(name),
    calloutClient(account) {
      if (client !== undefined) return client;
      const acc = server.accounts.get(account);
      if (acc === undefined) return undefined;
      client = server.createInternalClient(`auth callout ${account}`, acc);
      return client;
    },
  };
  return new CalloutAuthenticator(host, cfg, base);
}
