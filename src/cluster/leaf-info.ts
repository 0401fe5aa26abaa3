import type { PermissionRules } from "../auth/types.js";

// The JSON of leaf-node INFO (sent by the hub) and CONNECT (sent by the spoke), as nats-server reads it.

export interface LeafInfo {
  server_id?: string;
  server_name?: string;
  version?: string;
  host?: string;
  port?: number;
  proto?: number;
  headers?: boolean;
  max_payload?: number;
  auth_required?: boolean;
  tls_required?: boolean;
  jetstream?: boolean;
  domain?: string;
  nonce?: string;
  /** Non-zero on a real leafnode port (a client port answers with its own client id too, but no URLs). */
  client_id?: number;
  /** Other hub servers' leafnode URLs: present (maybe empty) only on a leafnode port. */
  leafnode_urls?: string[] | null;
  cluster?: string;
  /** The hub sends a second INFO once the spoke is bound, and the spoke waits for it. */
  info_on_connect?: boolean;
  connect_info?: boolean;
  remote_account?: string;
  acc_is_sys?: boolean;
  compression?: string;
  api_lvl?: number;
  /** With `connect_info`: the leaf user's subscribe permissions (what the spoke may receive). */
  import?: PermissionRules;
  /** With `connect_info`: the leaf user's publish permissions (what the spoke may send). */
  export?: PermissionRules;
}

export interface LeafConnectInfo {
  version?: string;
  nkey?: string;
  jwt?: string;
  sig?: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  server_id?: string;
  domain?: string;
  name?: string;
  is_hub?: boolean;
  cluster?: string;
  headers?: boolean;
  jetstream?: boolean;
  deny_pub?: string[];
  compress_mode?: string;
  /** Set by gateways dialling the wrong port. */
  gateway?: string;
  remote_account?: string;
  protocol?: number;
}

/** `-----BEGIN NATS USER JWT-----` … and the seed block of a `.creds` file. */
export function parseCreds(text: string): { jwt: string; seed: string } {
  const blocks = [
    ...text.matchAll(/-{3,}[^\n]*?-{3,}\r?\n\s*([A-Za-z0-9_\-.=]+)\s*\r?\n\s*-{3,}[^\n]*?-{3,}/g),
  ].map((m) => m[1]);
  const jwt = blocks.find((b) => b.startsWith("ey"));
  const seed = blocks.find((b) => b.startsWith("SU"));
  if (jwt === undefined || seed === undefined) throw new Error("credentials file has no user JWT and seed");
  return { jwt, seed };
}
