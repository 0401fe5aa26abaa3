// Client TLS settings, as the `tls { }` block and the --tls* flags describe them (durations in ms).

export interface TlsCertPair {
  certFile: string;
  keyFile: string;
}

export interface TlsOptions {
  /** The server certificate (PEM, may hold a chain) and its key; or several pairs in `certs`. */
  certFile?: string;
  keyFile?: string;
  /** More than one certificate, chosen by the SNI name the client asks for (first is the default). */
  certs: TlsCertPair[];
  /** CAs that client certificates must chain to; Node's bundled roots when absent. */
  caFile?: string;
  /** Require a client certificate that verifies against `caFile`. */
  verify: boolean;
  /** verify_and_map: also take the user from the client certificate (email, DNS name, URI or subject DN). */
  map: boolean;
  /** Handshake deadline; also decides the default auth timeout (timeout + 1 s). */
  timeoutMs: number;
  /** TLS before INFO. */
  handshakeFirst: boolean;
  /** With handshakeFirst: how long to wait for the client to start TLS before falling back to INFO first; 0 = never. */
  handshakeFirstFallbackMs: number;
  /** "TLSv1.2" or "TLSv1.3" (Node's names). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** OpenSSL cipher names translated from `cipher_suites`. */
  ciphers?: string[];
  /** OpenSSL group names translated from `curve_preferences`. */
  curves?: string[];
  /** Lower-case hex SHA-256 of the client certificate's SubjectPublicKeyInfo; a client must present one of them. */
  pinnedCerts?: string[];
  /** Connections this server dials (leaf remotes): skip checking the peer's certificate and name. */
  insecure?: boolean;
  /** New TLS connections accepted per second; 0 = unlimited. */
  rateLimit: number;
}

export const DEFAULT_TLS_TIMEOUT_MS = 2000;
/** handshake_first "auto": how long nats-server waits for a TLS-first client before sending INFO. */
export const DEFAULT_HANDSHAKE_FIRST_FALLBACK_MS = 50;

export function defaultTlsOptions(): TlsOptions {
  return {
    certs: [],
    verify: false,
    map: false,
    timeoutMs: DEFAULT_TLS_TIMEOUT_MS,
    handshakeFirst: false,
    handshakeFirstFallbackMs: 0,
    rateLimit: 0,
  };
}
