import type { X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import { type ConnectionOptions, TLSSocket, connect as tlsConnect } from "node:tls";
import { normalizeAddress, type Transport } from "../server/transport.js";
import type { TlsConnectionInfo } from "../tls/index.js";
import { handshakeErrorText } from "./leaf-remote-tls.js";

/**
 * The dialling side's TCP transport of a leaf link: plain until startTls(), then TLS on the same socket
 * (a hub sends its INFO in plain text and waits for the ClientHello). Writes made during the handshake
 * (the CONNECT) are held and sent encrypted once it is done. A socket that is TLS already (handshake_first)
 * is taken as upgraded.
 */
export class UpgradableTransport implements Transport {
  readonly kind = "tcp";
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Set once the TLS handshake is done. */
  tls: TlsConnectionInfo | undefined;
  peerCertificate: X509Certificate | undefined;
  private current: Socket;
  /** Writes waiting for the handshake; undefined when not handshaking. */
  private held: Buffer[] | undefined;
  private paused = false;
  private lastError: Error | undefined;
  private closeEmitted = false;
  private dataCb: ((chunk: Buffer) => void) | undefined;
  private closeCb: ((error: Error | undefined) => void) | undefined;
  private drainCb: (() => void) | undefined;

  constructor(private readonly raw: Socket) {
    raw.setNoDelay(true);
    this.current = raw;
    this.remoteAddress = normalizeAddress(raw.remoteAddress ?? "");
    this.remotePort = raw.remotePort ?? 0;
    raw.on("error", (err) => {
      this.lastError ??= err;
    });
    raw.on("close", () => this.emitClose());
    raw.on("drain", () => this.drainCb?.());
    raw.on("data", this.forward);
    if (raw instanceof TLSSocket) this.noteSecured(raw);
  }

  /** TLS is done, or under way. */
  get upgraded(): boolean {
    return this.tls !== undefined || this.held !== undefined;
  }

  /**
   * Start the client-side handshake on the socket. `failed` hears why it did not succeed (the socket is then
   * destroyed); the connection logs it and closes.
   */
  startTls(options: ConnectionOptions, timeoutMs: number, failed: (reason: string) => void): void {
    if (this.upgraded) return;
    this.raw.off("data", this.forward);
    this.held = [];
    const secure = tlsConnect({ ...options, socket: this.raw });
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.held = undefined;
      failed(reason);
      secure.destroy();
      this.raw.destroy();
    };
    const timer = setTimeout(() => fail("i/o timeout"), timeoutMs);
    timer.unref();
    secure.once("error", (err) => fail(handshakeErrorText(err)));
    secure.once("secureConnect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure.removeAllListeners("error");
      secure.on("error", (err) => {
        this.lastError ??= err;
      });
      secure.on("close", () => this.emitClose());
      secure.on("drain", () => this.drainCb?.());
      secure.on("data", this.forward);
      this.noteSecured(secure);
      this.current = secure;
      if (this.paused) secure.pause();
      const held = this.held ?? [];
      this.held = undefined;
      for (const chunk of held) secure.write(chunk);
    });
  }

  get writableLength(): number {
    let n = this.current.writableLength;
    for (const chunk of this.held ?? []) n += chunk.length;
    return n;
  }

  write(chunk: Buffer): boolean {
    if (this.held !== undefined) {
      this.held.push(chunk);
      return true;
    }
    if (this.current.destroyed) return false;
    return this.current.write(chunk);
  }

  pause(): void {
    this.paused = true;
    this.current.pause();
  }

  resume(): void {
    this.paused = false;
    this.current.resume();
  }

  end(): void {
    if (this.held !== undefined) {
      this.destroy();
      return;
    }
    if (!this.current.destroyed) this.current.end();
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.destroy(), 2000).unref();
  }

  destroy(): void {
    this.current.destroy();
    this.raw.destroy();
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

  private noteSecured(secure: TLSSocket): void {
    const cipher = secure.getCipher();
    this.tls = {
      version: (secure.getProtocol() ?? "").replace(/^TLSv/, ""),
      cipherSuite: cipher.standardName ?? cipher.name,
    };
    this.peerCertificate = secure.getPeerX509Certificate();
  }

  private readonly forward = (chunk: Buffer): void => {
    this.dataCb?.(chunk);
  };

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.closeCb?.(this.lastError);
  }
}
