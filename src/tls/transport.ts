// A client-port transport that starts as plain TCP and becomes TLS the way nats-server does it:
//  - default: INFO in plain text, then the client's TLS ClientHello;
//  - allow_non_tls: INFO, then the first byte the client sends decides (0x16 = TLS handshake record), and a
//    client that sends nothing within the TLS timeout stays in plain text;
//  - handshake_first: TLS straight away, INFO once the handshake is done; with a fallback delay ("auto" or a
//    duration), a client that has sent nothing by then gets INFO first as in the default mode.
// Writes made while the handshake is pending (INFO in TLS-first mode) are queued and sent encrypted.
import { createHash, type X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../logger.js";
import { CloseReason } from "../server/close-reason.js";
import { normalizeAddress, type Transport } from "../server/transport.js";
import { type HandshakeWaiter, socketKey, type TlsAcceptor } from "./context.js";

/** The negotiated protocol as /connz reports it. */
export interface TlsConnectionInfo {
  /** "1.2" or "1.3". */
  readonly version: string;
  /** IANA name, e.g. TLS_AES_128_GCM_SHA256. */
  readonly cipherSuite: string;
}

/** The connection riding on the transport, told when the handshake fails. */
export interface TlsClient {
  describe(): string;
  close(reason: CloseReason, errText?: string): void;
}

export const ERR_TLS_THROTTLED = "Connection throttling is active. Please try again later.";

type State =
  | "await-info" // nothing sent yet; the first write (INFO) goes out in plain text
  | "first" // handshake_first: waiting for the ClientHello (or the fallback delay)
  | "hello" // INFO sent: waiting for the ClientHello
  | "sniff" // allow_non_tls: INFO sent, waiting to see what the client speaks
  | "handshake"
  | "tls"
  | "plain"
  | "closed";

const TLS_HANDSHAKE_RECORD = 0x16;

/** Go's wording for the certificate errors clients hit most, with OpenSSL's code kept alongside. */
export function describeVerifyError(code: string): string {
  switch (code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return `x509: certificate signed by unknown authority (${code})`;
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return `x509: certificate has expired or is not yet valid (${code})`;
    case "INVALID_PURPOSE":
      return `x509: certificate specifies an incompatible key usage (${code})`;
    default:
      return code;
  }
}

function spkiSha256(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

export class TlsTransport implements Transport, HandshakeWaiter {
  readonly kind = "tcp";
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Set once the TLS handshake is done. */
  tls: TlsConnectionInfo | undefined;
  /** The client's certificate, when it sent one. */
  peerCertificate: X509Certificate | undefined;

  private state: State;
  private secure: TLSSocket | undefined;
  private readonly key: string;
  private queue: Buffer[] = [];
  private queued = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private lastError: Error | undefined;
  private handshakeErr: Error | undefined;
  private closeEmitted = false;
  private client: TlsClient | undefined;
  private logger: Logger | undefined;
  private dataCb: ((chunk: Buffer) => void) | undefined;
  private closeCb: ((error: Error | undefined) => void) | undefined;
  private drainCb: (() => void) | undefined;

  constructor(
    private readonly raw: Socket,
    private readonly acceptor: TlsAcceptor,
  ) {
    raw.setNoDelay(true);
    this.remoteAddress = normalizeAddress(raw.remoteAddress ?? "");
    this.remotePort = raw.remotePort ?? 0;
    this.key = socketKey(raw);
    raw.on("error", (err) => {
      this.lastError = err;
    });
    raw.on("close", () => this.rawClosed());
    raw.on("drain", () => {
      if (this.state === "plain") this.drainCb?.();
    });
    const o = acceptor.options;
    if (o.handshakeFirst) {
      this.state = "first";
      if (o.handshakeFirstFallbackMs > 0) this.waitForClient(o.handshakeFirstFallbackMs);
      else {
        this.startHandshakeTimer();
        this.waitForClient(0);
      }
    } else {
      this.state = "await-info";
    }
  }

  /** Link the connection using this transport (for handshake failures and logs). */
  attach(client: TlsClient, logger: Logger): void {
    this.client = client;
    this.logger = logger;
  }

  get writableLength(): number {
    return (this.secure ?? this.raw).writableLength + this.queued;
  }

  write(chunk: Buffer): boolean {
    switch (this.state) {
      case "tls":
        return this.secure!.write(chunk);
      case "plain":
        return this.raw.destroyed ? false : this.raw.write(chunk);
      case "await-info":
        // INFO goes out in plain text; the client answers with TLS (or, with allow_non_tls, maybe not).
        this.raw.write(chunk);
        this.afterPlainInfo();
        return true;
      case "closed":
        return false;
      default:
        this.queue.push(chunk);
        this.queued += chunk.length;
        return true;
    }
  }

  pause(): void {
    this.paused = true;
    if (this.state === "tls") this.secure!.pause();
    else if (this.state === "plain") this.raw.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.state === "tls") this.secure!.resume();
    else if (this.state === "plain") this.raw.resume();
  }

  end(): void {
    const state = this.state;
    this.stopWaiting();
    this.state = "closed";
    if (state === "tls") this.secure!.end();
    else if (state === "plain" || state === "await-info" || state === "sniff" || state === "hello") {
      // What went out in plain text (INFO, and an -ERR written with it) is flushed before closing; a client
      // that may still speak plain text also gets what was queued since.
      const q = this.takeQueue();
      if (q !== undefined && state !== "hello" && !this.raw.destroyed) this.raw.write(q);
      this.raw.end();
    } else {
      this.destroyAll();
      return;
    }
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.destroyAll(), 2000).unref();
  }

  destroy(): void {
    this.stopWaiting();
    this.state = "closed";
    this.destroyAll();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
  }

  onClose(cb: (error: Error | undefined) => void): void {
    this.closeCb = cb;
  }

  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }

  // --- handshake ---

  private afterPlainInfo(): void {
    if (this.acceptor.allowNonTls) {
      this.state = "sniff";
      this.waitForClient(this.acceptor.options.timeoutMs);
    } else {
      this.state = "hello";
      this.startHandshakeTimer();
      this.waitForClient(0);
    }
  }

  /** Wait for the client's first bytes; `ms` > 0 bounds the wait (handshakes have their own deadline). */
  private waitForClient(ms: number): void {
    this.raw.once("data", this.onFirstData);
    if (this.raw.isPaused()) this.raw.resume();
    if (ms > 0) {
      this.waitTimer = setTimeout(() => this.onWaitOver(), ms);
      this.waitTimer.unref();
    }
  }

  private stopWaiting(): void {
    this.raw.off("data", this.onFirstData);
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.waitTimer = undefined;
    this.handshakeTimer = undefined;
    this.acceptor.forget(this.key, this);
  }

  private startHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) return;
    this.handshakeTimer = setTimeout(() => this.fail("i/o timeout", true), this.acceptor.options.timeoutMs);
    this.handshakeTimer.unref();
  }

  private readonly onFirstData = (chunk: Buffer): void => {
    this.raw.pause();
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    const isTls = chunk[0] === TLS_HANDSHAKE_RECORD;
    if (this.state === "sniff" && !isTls) {
      this.goPlain(chunk);
      return;
    }
    if (!isTls) {
      this.fail("first record does not look like a TLS handshake", true);
      return;
    }
    this.startTls(chunk);
  };

  private onWaitOver(): void {
    this.waitTimer = undefined;
    this.raw.off("data", this.onFirstData);
    this.raw.pause();
    if (this.state === "sniff") {
      // Nothing from the client: it waits for us, so it speaks plain text.
      this.goPlain(undefined);
      return;
    }
    if (this.state === "first") {
      // handshake_first fallback: the client is not starting TLS, so send INFO first after all.
      const q = this.takeQueue();
      if (q === undefined) {
        this.state = "await-info";
        return;
      }
      this.raw.write(q);
      this.afterPlainInfo();
    }
  }

  private startTls(chunk: Buffer): void {
    if (!this.acceptor.admit()) {
      // nats-server refuses in plain text, before any handshake.
      this.takeQueue();
      this.stopWaiting();
      this.state = "plain";
      if (this.client !== undefined) this.client.close(CloseReason.MaxConnectionsExceeded, ERR_TLS_THROTTLED);
      else this.destroy();
      return;
    }
    this.state = "handshake";
    this.startHandshakeTimer();
    this.raw.unshift(chunk);
    this.acceptor.handshake(this.raw, this.key, this);
  }

  private goPlain(chunk: Buffer | undefined): void {
    this.state = "plain";
    const q = this.takeQueue();
    if (q !== undefined) this.raw.write(q);
    this.raw.on("data", (c: Buffer) => this.dataCb?.(c));
    if (chunk !== undefined) this.dataCb?.(chunk);
    if (!this.paused && this.state === "plain") this.raw.resume();
  }

  secured(socket: TLSSocket): void {
    if (this.state !== "handshake") {
      socket.destroy();
      return;
    }
    this.secure = socket;
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    const o = this.acceptor.options;
    const peer = socket.getPeerX509Certificate();
    if (o.verify) {
      if (peer === undefined) {
        this.fail("client didn't provide a certificate");
        return;
      }
      if (!socket.authorized) {
        this.fail(
          `failed to verify client certificate: ${describeVerifyError(String(socket.authorizationError))}`,
        );
        return;
      }
    }
    if (o.pinnedCerts !== undefined) {
      const id = peer === undefined ? undefined : spkiSha256(peer);
      if (id === undefined || !o.pinnedCerts.includes(id)) {
        this.logger?.debug(
          `${this.client?.describe() ?? this.remoteAddress} - Failed pinned cert test${id ? ` for key id: ${id}` : ""}`,
        );
        this.fail("certificate not pinned");
        return;
      }
    }
    this.peerCertificate = peer;
    const cipher = socket.getCipher();
    this.tls = {
      version: (socket.getProtocol() ?? "").replace(/^TLSv/, ""),
      cipherSuite: cipher.standardName ?? cipher.name,
    };
    this.state = "tls";
    socket.on("data", (c: Buffer) => this.dataCb?.(c));
    socket.on("drain", () => this.drainCb?.());
    socket.on("error", (err) => {
      this.lastError = err;
    });
    socket.on("close", () => this.emitClose());
    if (this.paused) socket.pause();
    const q = this.takeQueue();
    if (q !== undefined) socket.write(q);
    if (this.logger !== undefined && this.client !== undefined) {
      const who = this.client.describe();
      this.logger.debug(`${who} - TLS handshake complete`);
      this.logger.debug(`${who} - TLS version ${this.tls.version}, cipher suite ${this.tls.cipherSuite}`);
    }
  }

  handshakeError(err: Error): void {
    this.handshakeErr = err;
    this.fail((err as { reason?: string }).reason ?? err.message);
  }

  /**
   * The handshake failed: close the connection as "TLS Handshake Failure". Like current nats-server,
   * timeouts and plain-text first bytes (load-balancer probes, mostly) are logged at debug level only.
   */
  private fail(reason: string, probe = false): void {
    if (this.state === "closed" || this.state === "tls" || this.state === "plain") return;
    this.stopWaiting();
    this.takeQueue();
    this.state = "closed";
    if (this.client !== undefined) {
      const line = `${this.client.describe()} - TLS handshake error: ${reason}`;
      if (probe) this.logger?.debug(line);
      else this.logger?.error(line);
      this.client.close(CloseReason.TLSHandshakeError);
    }
    this.destroyAll();
  }

  private rawClosed(): void {
    switch (this.state) {
      case "hello":
      case "handshake":
        this.fail(this.handshakeErr?.message ?? "EOF");
        break;
      case "first":
        if (this.acceptor.options.handshakeFirstFallbackMs > 0) this.stopWaiting();
        else this.fail("EOF");
        break;
      default:
        this.stopWaiting();
    }
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.closeCb?.(this.lastError);
  }

  private takeQueue(): Buffer | undefined {
    if (this.queue.length === 0) return undefined;
    const q = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
    this.queue = [];
    this.queued = 0;
    return q;
  }

  private destroyAll(): void {
    this.secure?.destroy();
    this.raw.destroy();
  }
}
