import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { describeVerifyError, type TlsOptions } from "../tls/index.js";

/** nats-server's handshake deadline for a remote without its own `tls { timeout }`. */
const DEFAULT_REMOTE_TLS_TIMEOUT_MS = 2000;

/** How a spoke secures the link to its hub. */
export interface LeafClientTls {
  /** For tls.connect(), without the host (set per URL). */
  readonly options: ConnectionOptions;
  readonly timeoutMs: number;
  /** TLS before anything else (`handshake_first`), instead of after the hub's INFO. */
  readonly first: boolean;
}

/**
 * The client side of a remote's `tls { }` (or defaults, when only the URL or the hub's INFO asks for TLS),
 * read once: the hub's certificate must chain to `ca_file` (Node's bundled roots without one) and name the
 * host dialled, unless `insecure`; `cert_file`/`key_file` are presented when the hub asks for a certificate.
 */
export function leafClientTls(o: TlsOptions | undefined): LeafClientTls {
  const options: ConnectionOptions = {
    minVersion: o?.minVersion ?? "TLSv1.2",
    rejectUnauthorized: o?.insecure !== true,
  };
  if (o?.caFile !== undefined) options.ca = readFileSync(o.caFile);
  if (o?.certFile !== undefined && o.keyFile !== undefined) {
    options.cert = readFileSync(o.certFile);
    options.key = readFileSync(o.keyFile);
  }
  if (o?.ciphers !== undefined) options.ciphers = o.ciphers.join(":");
  if (o?.curves !== undefined) options.ecdhCurve = o.curves.join(":");
  return {
    options,
    timeoutMs: o?.timeoutMs ?? DEFAULT_REMOTE_TLS_TIMEOUT_MS,
    first: o?.handshakeFirst === true,
  };
}

/** The connect options for one host: its name checked against the certificate, and sent as SNI unless an IP. */
export function forHost(t: LeafClientTls, host: string): ConnectionOptions {
  return isIP(host) === 0 ? { ...t.options, host, servername: host } : { ...t.options, host };
}

/** A handshake error in Go's words where nats-server users would recognise them. */
export function handshakeErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `x509: ${err.message}`;
  const text = describeVerifyError(code);
  return text === code ? err.message : text;
}
