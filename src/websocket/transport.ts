import type { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { TLSSocket } from "node:tls";
import { type RawData, WebSocket } from "ws";
import { normalizeAddress, type Transport } from "../server/transport.js";

/**
 * Above this many unsent bytes write() reports backpressure, like a net.Socket's default highWaterMark, so
 * the connection starts its write deadline exactly as it would over TCP.
 */
const HIGH_WATER = 16 * 1024;

/** A flushing close gets this long before the socket is cut, as for TCP: a peer that never reads can't pin it. */
const END_GRACE_MS = 2000;

/**
 * A client connection carried by WebSocket frames. Each flush of the connection becomes one binary
 * message; every incoming message (binary or text) is handed up as raw protocol bytes.
 */
export class WebSocketTransport implements Transport {
  readonly kind = "websocket";
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** wss://: the negotiated protocol and the client's certificate, when it sent one. */
  readonly tls: { readonly version: string; readonly cipherSuite: string } | undefined;
  readonly peerCertificate: X509Certificate | undefined;
  private lastError: Error | undefined;
  private dataCb: ((chunk: Buffer) => void) | undefined;
  private readonly drainCbs: Array<() => void> = [];
  /** Messages held while paused (or before onData): ws may still emit frames it had already parsed. */
  private held: Buffer[] = [];
  private paused = false;
  private inFlight = 0;
  private needDrain = false;
  private endTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** The upgrade request (accepted connections) or the server's 101 response (a leaf remote's dial). */
    req: IncomingMessage,
  ) {
    this.remoteAddress = clientAddress(req);
    this.remotePort = req.socket.remotePort ?? 0;
    if (req.socket instanceof TLSSocket) {
      const cipher = req.socket.getCipher();
      this.tls = {
        version: (req.socket.getProtocol() ?? "").replace(/^TLSv/, ""),
        cipherSuite: cipher.standardName ?? cipher.name,
      };
      this.peerCertificate = req.socket.getPeerX509Certificate();
    }
    ws.on("message", (data, _isBinary) => this.deliver(toBuffer(data)));
    // Without a listener an 'error' would throw; it is reported through onClose instead.
    ws.on("error", (err) => {
      this.lastError ??= err;
    });
    ws.once("close", () => {
      if (this.endTimer !== undefined) clearTimeout(this.endTimer);
      // Nothing more will be flushed: release anyone waiting for a drain.
      if (this.needDrain) this.emitDrain();
    });
  }

  /** What ws still holds: bytes in the socket's buffer plus frames queued behind compression. */
  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  write(chunk: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.inFlight++;
    this.ws.send(chunk, { binary: true }, this.afterSend);
    if (this.ws.bufferedAmount >= HIGH_WATER) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  // ws has no 'drain' event; a send's callback fires once its bytes reached the kernel, so the last
  // outstanding callback (or an empty buffer) is the moment a net.Socket would emit 'drain'.
  private readonly afterSend = (): void => {
    this.inFlight--;
    if (this.needDrain && (this.inFlight === 0 || this.ws.bufferedAmount === 0)) this.emitDrain();
  };

  private emitDrain(): void {
    this.needDrain = false;
    for (const cb of this.drainCbs) cb();
  }

  pause(): void {
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws.resume();
    this.release();
  }

  end(): void {
    const state = this.ws.readyState;
    if (state === WebSocket.OPEN) this.ws.close(1000);
    if (state === WebSocket.CLOSED || this.endTimer !== undefined) return;
    this.endTimer = setTimeout(() => this.ws.terminate(), END_GRACE_MS);
    this.endTimer.unref();
  }

  destroy(): void {
    this.ws.terminate();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
    this.release();
  }

  onClose(cb: (error: Error | undefined) => void): void {
    this.ws.once("close", () => cb(this.lastError));
  }

  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }

  private deliver(chunk: Buffer): void {
    if (this.paused || this.dataCb === undefined || this.held.length > 0) {
      this.held.push(chunk);
      return;
    }
    this.dataCb(chunk);
  }

  private release(): void {
    while (!this.paused && this.dataCb !== undefined && this.held.length > 0) {
      this.dataCb(this.held.shift()!);
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Like nats-server: a proxy's X-Forwarded-For wins when it is a single valid IP. */
function clientAddress(req: IncomingMessage): string {
  const forwarded = req.headersDistinct["x-forwarded-for"]?.[0];
  if (forwarded !== undefined && isIP(forwarded) !== 0) return normalizeAddress(forwarded);
  return normalizeAddress(req.socket.remoteAddress ?? "");
}
