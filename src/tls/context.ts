// Loads the certificate files of a TlsOptions (failing with messages that name the file) and runs server-side
// handshakes for sockets accepted elsewhere: a tls.Server that never listens is handed each raw socket, so
// Node's own code checks client certificates (`authorized` / `authorizationError`).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  Server,
  type TLSSocket,
} from "node:tls";
import { TlsConfigError } from "./config.js";
import type { TlsOptions } from "./options.js";

interface LoadedPair {
  key: Buffer;
  cert: Buffer;
  x509: X509Certificate;
  context: SecureContext;
}

export interface LoadedTls {
  /** The first pair is the default; the others are chosen by SNI. */
  pairs: LoadedPair[];
  ca: Buffer[] | undefined;
  common: SecureContextOptions;
  /** The server asks for client certificates (verify, or pinned certificates to check). */
  requestCert: boolean;
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
};

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new TlsConfigError(`${what}: open ${file}: ${FS_ERRORS[code] ?? (err as Error).message}`);
  }
}

function pemBlocks(pem: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, "g");
  return pem.match(re) ?? [];
}

function opensslReason(err: unknown): string {
  const e = err as { reason?: string; message?: string };
  return e.reason ?? e.message ?? String(err);
}

function loadPair(
  certFile: string,
  keyFile: string,
  common: SecureContextOptions,
  label: string,
): LoadedPair {
  const what = `error parsing X509 certificate/key pair${label}`;
  const cert = read(certFile, what);
  const key = read(keyFile, what);
  const blocks = pemBlocks(cert.toString("latin1"), "CERTIFICATE");
  let x509: X509Certificate;
  try {
    if (blocks.length === 0) throw new Error("no certificate PEM block found");
    x509 = new X509Certificate(blocks[0]);
  } catch (err) {
    throw new TlsConfigError(`${what}: ${certFile}: ${opensslReason(err)}`);
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ ...common, key, cert });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_OSSL_X509_KEY_VALUES_MISMATCH") {
      throw new TlsConfigError(
        `${what}: private key ${keyFile} does not match the public key of certificate ${certFile}`,
      );
    }
    throw new TlsConfigError(`${what}: ${certFile}, ${keyFile}: ${opensslReason(err)}`);
  }
  return { key, cert, x509, context };
}

/** Read and check every file the options name. Throws TlsConfigError naming the file at fault. */
export function loadTlsFiles(o: TlsOptions): LoadedTls {
  let ca: Buffer[] | undefined;
  if (o.caFile !== undefined) {
    const pem = read(o.caFile, "tls.ca_file").toString("latin1");
    const blocks = pemBlocks(pem, "CERTIFICATE").filter((b) => {
      try {
        new X509Certificate(b);
        return true;
      } catch {
        return false;
      }
    });
    if (blocks.length === 0)
      throw new TlsConfigError(`tls.ca_file: failed to parse root ca certificate in ${o.caFile}`);
    ca = blocks.map((b) => Buffer.from(b, "latin1"));
  }
  const common: SecureContextOptions = { honorCipherOrder: true };
  const requestCert = o.verify || o.pinnedCerts !== undefined;
  // The CAs only matter for checking client certificates. OpenSSL also uses them to complete the chain
  // the server presents, which nats-server (Go) never does: leave them out unless clients are checked, so
  // the server sends exactly what cert_file holds.
  if (ca !== undefined && requestCert) common.ca = ca;
  if (o.minVersion !== undefined) common.minVersion = o.minVersion;
  if (o.ciphers !== undefined) common.ciphers = o.ciphers.join(":");
  if (o.curves !== undefined) common.ecdhCurve = o.curves.join(":");
  const specs = o.certFile !== undefined ? [{ certFile: o.certFile, keyFile: o.keyFile ?? "" }] : o.certs;
  if (specs.length === 0) throw new TlsConfigError("tls: missing 'cert_file' in TLS configuration");
  const pairs = specs.map((p, i) =>
    loadPair(p.certFile, p.keyFile, common, specs.length > 1 ? ` ${i + 1}/${specs.length}` : ""),
  );
  return { pairs, ca, common, requestCert };
}

/** Certificate, key and common settings for a Node TLS server of another listener (its default pair). */
export function secureContextOptions(o: TlsOptions): SecureContextOptions {
  const { pairs, common } = loadTlsFiles(o);
  return { ...common, key: pairs[0].key, cert: pairs[0].cert };
}

/** What a pending handshake is told. */
export interface HandshakeWaiter {
  secured(socket: TLSSocket): void;
  handshakeError(err: Error): void;
}

/** The address 4-tuple of a connected socket. */
export function socketKey(s: {
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}) {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

/**
 * Server-side handshakes for one TLS configuration. Sockets are matched back to their waiter by their
 * address 4-tuple, which is unique among open TCP connections.
 */
export class TlsAcceptor {
  private readonly server: Server;
  private readonly waiting = new Map<string, HandshakeWaiter>();
  private windowStart = 0;
  private windowCount = 0;

  /** The certificates in use (replaced by `reload`). */
  private loaded: LoadedTls;

  constructor(
    /** The options in use (replaced by `reload`). */
    public options: TlsOptions,
    /** allow_non_tls: clients may stay in plain text. */
    readonly allowNonTls: boolean,
  ) {
    const loaded = loadTlsFiles(options);
    this.loaded = loaded;
    const [first] = loaded.pairs;
    this.server = new Server({
      ...loaded.common,
      key: first.key,
      cert: first.cert,
      // Certificates are checked after the handshake (Node accepts any, then reports `authorized`), so the
      // server can say why it refuses a client.
      requestCert: loaded.requestCert,
      rejectUnauthorized: false,
      // A backstop: TlsTransport enforces `timeout` itself.
      handshakeTimeout: options.timeoutMs * 2 + 1000,
      SNICallback: (servername, cb) => {
        const pairs = this.loaded.pairs;
        const pair =
          pairs.length > 1 ? pairs.find((p) => p.x509.checkHost(servername) !== undefined) : undefined;
        cb(null, (pair ?? pairs[0]).context);
      },
    });
    this.server.on("secureConnection", (socket: TLSSocket) => {
      const key = socketKey(socket);
      const waiter = this.waiting.get(key);
      this.waiting.delete(key);
      if (waiter !== undefined) waiter.secured(socket);
      else socket.destroy();
    });
    this.server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      const key = socketKey(socket);
      const waiter = this.waiting.get(key);
      this.waiting.delete(key);
      waiter?.handshakeError(err);
    });
  }

  /**
   * New certificate files or settings (a configuration reload): handshakes from now on use them; connections
   * already established keep the session they negotiated. Throws TlsConfigError (nothing changes then).
   */
  reload(options: TlsOptions): void {
    const loaded = loadTlsFiles(options);
    const [first] = loaded.pairs;
    this.server.setSecureContext({ ...loaded.common, key: first.key, cert: first.cert });
    // Node reads this (untyped) property of the server for each new handshake.
    (this.server as unknown as { requestCert: boolean }).requestCert = loaded.requestCert;
    this.loaded = loaded;
    this.options = options;
  }

  /** connection_rate_limit: may one more TLS connection start this second? */
  admit(): boolean {
    const limit = this.options.rateLimit;
    if (limit <= 0) return true;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    return ++this.windowCount <= limit;
  }

  /**
   * Start the server side of a handshake on `raw` (whose first bytes may have been unshifted back); `key` is
   * its socketKey, taken while it was connected.
   */
  handshake(raw: Socket, key: string, waiter: HandshakeWaiter): void {
    this.waiting.set(key, waiter);
    this.server.emit("connection", raw);
  }

  /** Drop a waiter whose socket went away. */
  forget(key: string, waiter: HandshakeWaiter): void {
    if (this.waiting.get(key) === waiter) this.waiting.delete(key);
  }
}
