// The `client` object of system events and of the Nats-Request-Info header, in nats-server's JSON shape.
import type { JwtUserGrant } from "../auth/types.js";
import type { SubscriptionOwner } from "../server/subscription.js";

/** What the events read from a client connection (ClientConnection satisfies it). */
export interface EventClient {
  readonly cid: number;
  readonly start: Date;
  readonly stop: Date | undefined;
  readonly rttMs: number;
  readonly user: string | undefined;
  readonly account: { readonly name: string } | undefined;
  readonly closeReason: string | undefined;
  readonly connect: { readonly name?: string; readonly lang?: string; readonly version?: string } | undefined;
  readonly transport: { readonly kind: string; readonly remoteAddress: string };
  readonly stats: { inMsgs: number; inBytes: number; outMsgs: number; outBytes: number };
}

/** Is this publisher a client connection (rather than an internal participant)? */
export function asEventClient(owner: SubscriptionOwner | undefined): EventClient | undefined {
  if (owner === undefined) return undefined;
  const c = owner as Partial<EventClient>;
  return c.transport !== undefined && c.start instanceof Date ? (owner as unknown as EventClient) : undefined;
}

export function clientInfo(
  c: EventClient,
  grant: JwtUserGrant | undefined,
  closing = false,
): Record<string, unknown> {
  const info: Record<string, unknown> = {
    start: c.start.toISOString(),
    host: c.transport.remoteAddress,
    id: c.cid,
    acc: c.account?.name ?? "$G",
  };
  if (c.user) info.user = c.user;
  if (c.connect?.name) info.name = c.connect.name;
  if (c.connect?.lang) info.lang = c.connect.lang;
  if (c.connect?.version) info.ver = c.connect.version;
  if (closing) {
    info.rtt = Math.round(c.rttMs * 1e6);
    info.stop = (c.stop ?? new Date()).toISOString();
  }
  if (grant) {
    info.jwt = grant.token;
    info.issuer_key = grant.issuerKey;
    if (grant.nameTag) info.name_tag = grant.nameTag;
    if (grant.tags.length > 0) info.tags = grant.tags;
  }
  info.kind = "Client";
  info.client_type = c.transport.kind === "websocket" ? "websocket" : "nats";
  return info;
}

/** Nats-Request-Info for a request crossing into another account: the account, the RTT and, if shared, more. */
export function requestInfo(account: string, origin: SubscriptionOwner | undefined, share: boolean): string {
  const c = asEventClient(origin);
  const info: Record<string, unknown> = { acc: account, rtt: c ? Math.round(c.rttMs * 1e6) : 0 };
  if (share && c) {
    info.start = c.start.toISOString();
    info.host = c.transport.remoteAddress;
    info.id = c.cid;
    if (c.user) info.user = c.user;
    if (c.connect?.name) info.name = c.connect.name;
    if (c.connect?.lang) info.lang = c.connect.lang;
    if (c.connect?.version) info.ver = c.connect.version;
    info.kind = "Client";
    info.client_type = c.transport.kind === "websocket" ? "websocket" : "nats";
  }
  return JSON.stringify(info);
}
