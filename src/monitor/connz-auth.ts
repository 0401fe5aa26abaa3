// The identity fields /connz adds with `auth=true`, as nats-server names them: authorized_user (the user
// name, nkey or JWT user key; a token is never shown), account (unless global), the certificate the client
// presented (tls_peer_certs), and for JWT users jwt, issuer_key, name_tag and tags.
import { createHash, type X509Certificate } from "node:crypto";
import { certIdentity, subjectString } from "../tls/cert-map.js";
import type { MonitoredConnection } from "./types.js";

/** What a JWT user connected with (AccountManager's grant). */
export interface ConnzGrant {
  readonly token: string;
  readonly issuerKey: string;
  readonly nameTag: string;
  readonly tags: readonly string[];
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** nats-server's TLSPeerCert entries for the client certificate. */
export function peerCerts(cert: X509Certificate): Record<string, string>[] {
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return [
    { subject: subjectString(certIdentity(cert)), spki_sha256: sha256(spki), cert_sha256: sha256(cert.raw) },
  ];
}

export function authorizedUser(c: MonitoredConnection): string | undefined {
  if (c.user) return c.user;
  return c.connect?.auth_token ? "[REDACTED]" : undefined;
}

/** The leading identity fields (before the subscription lists). */
export function authIdentity(c: MonitoredConnection, info: Record<string, unknown>): void {
  const user = authorizedUser(c);
  if (user) info.authorized_user = user;
  // The global account is implied, so nats-server names only others.
  if (c.account && c.account.name !== "$G") info.account = c.account.name;
}

/** The JWT fields (after the subscription lists); live connections only, as in nats-server. */
export function authJwt(grant: ConnzGrant | undefined, info: Record<string, unknown>): void {
  if (grant === undefined) return;
  info.jwt = grant.token;
  info.issuer_key = grant.issuerKey;
  if (grant.nameTag) info.name_tag = grant.nameTag;
  if (grant.tags.length > 0) info.tags = [...grant.tags];
}
