import type { X509Certificate } from "node:crypto";
import type { Socket } from "node:net";

// What a connection needs from the bytes underneath it. TCP and WebSocket (and later TLS) implement it, so
// the connection pipeline above is the same for every listener.
export interface Transport {
  readonly kind: "tcp" | "websocket";
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly writableLength: number;
  /** The negotiated TLS protocol, once a TLS transport has completed its handshake (for /connz). */
  readonly tls?: { readonly version: string; readonly cipherSuite: string } | undefined;
  /** The client's TLS certificate, when it presented one (for verify_and_map). */
  readonly peerCertificate?: X509Certificate | undefined;
  write(chunk: Buffer): boolean;
  pause(): void;
  resume(): void;
  /** Flush what is queued, then close. */
  end(): void;
  destroy(): void;
  onData(cb: (chunk: Buffer) => void): void;
  onClose(cb: (error: Error | undefined) => void): void;
  onDrain(cb: () => void): void;
}

export class TcpTransport implements Transport {
  readonly kind = "tcp";
  readonly remoteAddress: string;
  readonly remotePort: number;
  private lastError: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? "");
    this.remotePort = socket.remotePort ?? 0;
    socket.on("error", (err) => {
      this.lastError = err;
    });
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(chunk: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(chunk);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.socket.on("data", cb);
  }

  onClose(cb: (error: Error | undefined) => void): void {
    this.socket.on("close", () => cb(this.lastError));
  }

  onDrain(cb: () => void): void {
    this.socket.on("drain", cb);
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as nats-server reports IPv4 peers. */
export function normalizeAddress(addr: string): string {
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}
