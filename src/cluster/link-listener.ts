import net from "node:net";
import type { Logger } from "../logger.js";
import { TcpTransport, type Transport } from "../server/transport.js";
import { type TlsAcceptor, type TlsClient, TlsTransport } from "../tls/index.js";

/** How long stop() lets accepted sockets close on their own before destroying them. */
const STOP_GRACE_MS = 2000;

/**
 * The TCP listener of one kind of server link (routes, gateways, leaf nodes). It tracks the sockets it
 * accepted so that stopping cannot hang on a peer that keeps its socket open, and with a TLS acceptor hands
 * the connection each transport was made for to it (a failed handshake closes that connection with a reason).
 */
export class LinkListener {
  /** The port listened on (after listen()). */
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    /** A new transport: make its connection (undefined when refused). */
    private readonly accept: (transport: Transport) => TlsClient | undefined,
    private readonly tls?: TlsAcceptor,
  ) {}

  /** Listen on `host` and `port` (-1: any free port). Resolves with the port bound. */
  async listen(host: string, port: number): Promise<number> {
    const srv = net.createServer((socket) => this.onSocket(socket));
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen({ host, port: Math.max(port, 0) }, () => {
        srv.off("error", reject);
        resolve();
      });
    });
    this.server = srv;
    this.port = (srv.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Accept no more; sockets still open after a grace period (their connections were closed) are destroyed. */
  async stop(): Promise<void> {
    this.stopping = true;
    const srv = this.server;
    this.server = undefined;
    if (srv === undefined) return;
    const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
    const late = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, STOP_GRACE_MS);
    await closed;
    clearTimeout(late);
  }

  private onSocket(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    if (this.tls === undefined) {
      this.accept(new TcpTransport(socket));
      return;
    }
    const transport = new TlsTransport(socket, this.tls);
    const conn = this.accept(transport);
    if (conn !== undefined) transport.attach(conn, this.logger);
  }
}

/** The host part of a listen URL: a wildcard address is shown as the loopback one. */
export function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** `host:port`, with an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
