import { withAuthCallout } from "../auth/callout-host.js";
import type { ServerOptions } from "./options.js";
import { createAuthenticator, type Server } from "./server.js";

/** Options a reload may change; the rest (listeners, storage) need a restart. */
const RELOADABLE: ReadonlyArray<keyof ServerOptions> = [
  "debug",
  "trace",
  "logtime",
  "authorization",
  "noAuthUser",
  "maxConnections",
  "maxPayload",
  "maxPending",
  "maxSubscriptions",
  "pingIntervalMs",
  "pingMax",
  "writeDeadlineMs",
  "lameDuckDurationMs",
  "lameDuckGracePeriodMs",
  "tags",
];

const RESTART_ONLY: ReadonlyArray<keyof ServerOptions> = [
  "host",
  "port",
  "httpHost",
  "httpPort",
  "serverName",
  "jetstream",
  "websocket",
  "maxControlLine",
];

/**
 * Apply a new configuration to a running server (SIGHUP): logging, limits and authorization take effect
 * at once — existing clients are re-checked against the new users and permissions. Returns warnings for
 * options that only a restart can change.
 */
export async function reloadServer(server: Server, next: ServerOptions): Promise<string[]> {
  const warnings: string[] = [];
  const current = server.options as unknown as Record<string, unknown>;
  const incoming = next as unknown as Record<string, unknown>;
  // Certificates first (files are read again even when their names did not change): a failure leaves
  // the running configuration untouched. Established connections keep their sessions.
  if ((server.options.tls === undefined) !== (next.tls === undefined)) {
    warnings.push('config reload: "tls" can not be turned on or off without a restart');
  } else if (next.tls !== undefined) {
    server.tlsAcceptor?.reload(next.tls);
    server.options.tls = next.tls;
  }
  for (const l of server.extraListeners) l.reloadTls?.(next);
  for (const key of RESTART_ONLY) {
    if (JSON.stringify(current[key]) !== JSON.stringify(incoming[key])) {
      warnings.push(`config reload: "${key}" can not be changed without a restart`);
    }
  }
  for (const key of RELOADABLE) current[key] = incoming[key];
  server.logger.setLevels(next.debug, next.trace);
  // New or changed accounts first, so re-checked clients find the account their user now names.
  server.accountManager.reload(next);
  // Operator mode keeps its JWT authenticator: users come from account JWTs, not from the config.
  server.authenticator = withAuthCallout(
    server,
    server.accountManager.jwtAuthenticator ?? createAuthenticator(server.options),
  );
  server.rebuildInfo();
  const { maxControlLine, maxPayload } = server.options;
  await Promise.all(
    [...server.clients.values()].map((c) => {
      c.parser.setLimits({ maxControlLine, maxPayload });
      return c.reauthorize(server.authenticator);
    }),
  );
  server.logger.info("Reloaded server configuration");
  return warnings;
}
