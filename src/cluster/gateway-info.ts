// The JSON a gateway carries in INFO and CONNECT (gateway.go's Info and connectInfo fields that Lattice
// reads or sends), the INFO commands, and the hashes of the `_GR_.` reply prefix. Unknown fields from newer
// peers are ignored.

import { createHash } from "node:crypto";

/** Gateway INFO `gateway_cmd` values. */
export const GatewayCmd = {
  /** "Connect to this gateway too": an INFO about another cluster (inbound gateways and routes carry it). */
  Gossip: 1,
  /** Interest-only mode for the account in `gateway_cmd_payload`: every RS+ of it follows. */
  AllSubsStart: 2,
  /** The RS+ list of that account is complete: send only what matches it from now on. */
  AllSubsComplete: 3,
} as const;

export interface GatewayInfo {
  server_id?: string;
  server_name?: string;
  version?: string;
  go?: string;
  host?: string;
  port?: number;
  proto?: number;
  headers?: boolean;
  max_payload?: number;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_verify?: boolean;
  /** The gateway (cluster) name of the sender, or of the cluster a gossip INFO is about. */
  gateway?: string;
  /** Every known gateway URL (`host:port`) of that cluster. */
  gateway_urls?: string[];
  /** The sender's own gateway URL (route INFO). */
  gateway_url?: string;
  gateway_cmd?: number;
  /** A Go `[]byte`: base64 in JSON (the account name for commands 2 and 3). */
  gateway_cmd_payload?: string;
  /** The sender maps replies with the `_GR_.` prefix (not the old `$GR.` one). */
  gateway_nrp?: boolean;
  /** The sender switches every account to interest-only mode at once (2.9+). */
  gateway_iom?: boolean;
  nonce?: string;
}

export interface GatewayConnectInfo {
  verbose?: boolean;
  pedantic?: boolean;
  user?: string;
  pass?: string;
  auth_token?: string;
  tls_required?: boolean;
  /** The soliciting server's id. */
  name?: string;
  /** The soliciting server's gateway name: absent from clients and routes that dialled the wrong port. */
  gateway?: string;
}

/** `_GR_.<cluster hash>.<server hash>.<reply>` */
export const GW_REPLY_PREFIX = "_GR_.";
const GW_HASH_LEN = 6;
const GW_CLUSTER_OFFSET = GW_REPLY_PREFIX.length;
const GW_SERVER_OFFSET = GW_CLUSTER_OFFSET + GW_HASH_LEN + 1;
const GW_SUBJECT_OFFSET = GW_SERVER_OFFSET + GW_HASH_LEN + 1;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * nats-server's short hash of a name (events.go getHashSize): the first `size` bytes of its SHA-256, each
 * mapped to a base-62 digit. Gateways use 6 characters for the cluster (gateway name) and the server id.
 */
export function gatewayHash(name: string, size = GW_HASH_LEN): string {
  const sum = createHash("sha256").update(name, "utf8").digest();
  let out = "";
  for (let i = 0; i < size; i++) out += BASE62[sum[i] % 62];
  return out;
}

/** The reply prefix a cluster/server pair maps its replies with: `_GR_.<cluster>.<server>.` */
export function gatewayReplyPrefix(gatewayName: string, serverId: string): string {
  return `${GW_REPLY_PREFIX}${gatewayHash(gatewayName)}.${gatewayHash(serverId)}.`;
}

export interface RoutedReply {
  readonly cluster: string;
  readonly server: string;
  /** The original reply subject. */
  readonly subject: string;
}

/** Split a `_GR_.` subject; undefined when it is not one (too short, or not shaped like the prefix). */
export function parseRoutedReply(subject: string): RoutedReply | undefined {
  if (subject.length <= GW_SUBJECT_OFFSET || !subject.startsWith(GW_REPLY_PREFIX)) return undefined;
  if (subject.charCodeAt(GW_SERVER_OFFSET - 1) !== 0x2e || subject.charCodeAt(GW_SUBJECT_OFFSET - 1) !== 0x2e)
    return undefined;
  return {
    cluster: subject.slice(GW_CLUSTER_OFFSET, GW_CLUSTER_OFFSET + GW_HASH_LEN),
    server: subject.slice(GW_SERVER_OFFSET, GW_SERVER_OFFSET + GW_HASH_LEN),
    subject: subject.slice(GW_SUBJECT_OFFSET),
  };
}

/** An account name as a command payload (Go marshals `[]byte` as standard base64). */
export function encodeCmdPayload(account: string): string {
  return Buffer.from(account, "utf8").toString("base64");
}

export function decodeCmdPayload(payload: string | undefined): string | undefined {
  if (typeof payload !== "string" || payload === "") return undefined;
  const name = Buffer.from(payload, "base64").toString("utf8");
  return name === "" ? undefined : name;
}

/**
 * A gateway URL as written in config (`nats://[user:pass@]host:port`, `host:port`) or gossiped (`host:port`).
 * Returns the `host:port` key and credentials, or undefined when it does not parse.
 */
export function parseGatewayUrl(
  text: string,
): { key: string; host: string; port: number; user?: string; pass?: string } | undefined {
  let u: URL;
  try {
    u = new URL(text.includes("://") ? text : `nats://${text}`);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? 7222 : Number(u.port);
  if (host === "" || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return {
    key: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    host,
    port,
    user: u.username === "" ? undefined : decodeURIComponent(u.username),
    pass: u.password === "" ? undefined : decodeURIComponent(u.password),
  };
}
