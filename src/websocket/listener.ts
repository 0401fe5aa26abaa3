import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type PerMessageDeflateOptions, WebSocket, WebSocketServer } from "ws";
import type { ServerOptions, WebSocketOptions } from "../server/options.js";
import type { Listener, Server } from "../server/server.js";
import { normalizeAddress } from "../server/transport.js";
import { secureContextOptions } from "../tls/index.js";
import type { TlsOptions } from "../tls/options.js";
import { WebSocketTransport } from "./transport.js";

/** How long stop() lets closing connections finish their close handshake before cutting them. */
const STOP_GRACE_MS = 2000;

/** A rejected upgrade: the HTTP status and nats-server's reason text (logged, not sent). */
export interface UpgradeRejection {
  status: number;
  reason: string;
}

interface AllowedOrigin {
  scheme: string;
  port: string;
}

/**
 * The `websocket { }` listener: an HTTP server whose upgrades become client connections. The handshake
 * is checked the way nats-server checks it (same status codes and reasons), then handed to ws.
 */
export class WebSocketListener implements Listener {
  readonly name = "websocket";
  private http: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private server: Server | undefined;
  private opts: WebSocketOptions | undefined;
  private allowedOrigins = new Map<string, AllowedOrigin>();
  /** Sockets still in their HTTP handshake, with the timer that cuts them off. */
  private readonly handshaking = new Map<Duplex, NodeJS.Timeout | undefined>();
  private readonly sockets = new Set<WebSocket>();

  async start(server: Server): Promise<string[]> {
    const o = server.options.websocket;
    if (o === undefined) throw new Error("websocket listener started without websocket options");
    // nats-server refuses plain ws:// unless told explicitly.
    const tlsOpts = o.noTls ? undefined : o.tls;
    if (!o.noTls && tlsOpts === undefined) throw new Error("websocket requires TLS configuration");
    this.server = server;
    this.opts = o;
    this.allowedOrigins = parseAllowedOrigins(o.allowedOrigins, (origin) =>
      server.logger.error(`error parsing allowed origin: ${JSON.stringify(origin)}`),
    );

    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: o.compression ? deflateOptions() : false,
      // ws holds a whole frame in memory before emitting it, so bound it; a client may coalesce many
      // messages into one frame, so the bound is the pending-bytes limit, not max_payload.
      maxPayload: Math.max(
        server.options.maxPending,
        2 * (server.options.maxPayload + server.options.maxControlLine),
      ),
      // nats-server does not validate text frames as UTF-8: they carry protocol bytes like binary ones.
      skipUTF8Validation: true,
    });
    // What ws itself refuses after our checks (malformed key, extension or subprotocol header) is a 400;
    // answer and log it the same way as ours.
    this.wss.on("wsClientError", (err: Error, socket: Duplex, req: IncomingMessage) => {
      this.logRejection(req, { status: 400, reason: err.message });
      rejectUpgrade(socket, 400);
    });

    const hs = tlsOpts === undefined ? http.createServer() : secureServer(tlsOpts);
    this.http = hs;
    // With TLS the HTTP handshake starts once the TLS one is done (that one has the TLS timeout).
    hs.on(tlsOpts === undefined ? "connection" : "secureConnection", (socket: Duplex) =>
      this.trackHandshake(socket),
    );
    hs.on("request", (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    hs.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );

    await new Promise<void>((resolve, reject) => {
      hs.once("error", reject);
      hs.listen({ host: o.host, port: Math.max(o.port, 0) }, () => {
        hs.off("error", reject);
        resolve();
      });
    });
    hs.on("error", (err) => server.logger.error(`websocket listener error: ${err.message}`));
    const port = (hs.address() as AddressInfo).port;
    const scheme = tlsOpts === undefined ? "ws" : "wss";
    server.logger.info(`Listening for websocket clients on ${scheme}://${hostPort(o.host, port)}`);
    if (tlsOpts === undefined)
      server.logger.warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
    return [`${scheme}://${connectHostPort(o, port)}`];
  }

  /** wss://: the certificate files are read again; new connections use them. */
  reloadTls(next: ServerOptions): void {
    const hs = this.http;
    const t = next.websocket?.tls;
    if (hs === undefined || !("setSecureContext" in hs) || t === undefined || next.websocket?.noTls) return;
    hs.setSecureContext(secureContextOptions(t));
  }

  async stop(): Promise<void> {
    const hs = this.http;
    this.http = undefined;
    if (hs === undefined) return;
    const closed = new Promise<void>((resolve) => hs.close(() => resolve()));
    for (const [socket, timer] of this.handshaking) {
      if (timer !== undefined) clearTimeout(timer);
      socket.destroy();
    }
    this.handshaking.clear();
    // Connections the server already closed are finishing their close handshake; give those (and any
    // not yet closed) a moment so queued bytes and the close frame reach the peer.
    const pending: Promise<void>[] = [];
    for (const ws of this.sockets) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1001, "Server Shutdown");
      pending.push(new Promise((resolve) => ws.once("close", () => resolve())));
    }
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      });
      await Promise.race([Promise.all(pending), grace]);
      clearTimeout(timer);
      for (const ws of this.sockets) ws.terminate();
    }
    this.wss?.close();
    this.wss = undefined;
    await closed;
  }

  /** The handshake (HTTP request up to the upgrade) must finish within handshake_timeout. */
  private trackHandshake(socket: Duplex): void {
    const ms = this.opts?.handshakeTimeoutMs ?? 0;
    let timer: NodeJS.Timeout | undefined;
    if (ms > 0) {
      timer = setTimeout(() => {
        this.handshaking.delete(socket);
        socket.destroy();
      }, ms);
      timer.unref();
    }
    this.handshaking.set(socket, timer);
    socket.once("close", () => this.handshakeDone(socket));
  }

  private handshakeDone(socket: Duplex): void {
    const timer = this.handshaking.get(socket);
    if (timer !== undefined) clearTimeout(timer);
    this.handshaking.delete(socket);
  }

  /** A request without `Connection: Upgrade` never upgrades: answer it with nats-server's error. */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const rejection = checkUpgradeRequest(req) ?? {
      status: 400,
      reason: "invalid value for header 'Connection'",
    };
    this.logRejection(req, rejection);
    const body = `${http.STATUS_CODES[rejection.status] ?? "Error"}\n`;
    res.writeHead(rejection.status, {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
      "Sec-Websocket-Version": "13",
      "Content-Length": Buffer.byteLength(body),
      Connection: "close",
    });
    res.end(body);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.wss;
    const server = this.server;
    if (wss === undefined || server === undefined || this.http === undefined) {
      socket.destroy();
      return;
    }
    const rejection = checkUpgradeRequest(req) ?? this.checkOrigin(req);
    if (rejection !== undefined) {
      this.logRejection(req, rejection);
      rejectUpgrade(socket, rejection.status);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.handshakeDone(socket);
      this.sockets.add(ws);
      ws.once("close", () => this.sockets.delete(ws));
      // A path ending in /leafnode is a leaf node (when this server is a hub); any other is a client.
      const path = (req.url ?? "/").split("?")[0]!;
      if (path.endsWith("/leafnode") && server.leafnodes !== undefined) {
        server.leafnodes.acceptTransport(new WebSocketTransport(ws, req));
        return;
      }
      server.accept(new WebSocketTransport(ws, req));
    });
  }

  /** nats-server's origin rules: no Origin header passes; otherwise same_origin and allowed_origins apply. */
  checkOrigin(req: IncomingMessage): UpgradeRejection | undefined {
    const err = originError(req, this.opts?.sameOrigin ?? false, this.allowedOrigins);
    return err === undefined ? undefined : { status: 403, reason: `origin not allowed: ${err}` };
  }

  private logRejection(req: IncomingMessage, r: UpgradeRejection): void {
    const addr = normalizeAddress(req.socket.remoteAddress ?? "");
    this.server?.logger.error(
      `${hostPort(addr, req.socket.remotePort ?? 0)} - websocket handshake error: ${r.reason}`,
    );
  }
}

/**
 * The wss:// server: the `websocket { tls { } }` certificate; `verify` requires a client certificate
 * signed by its CA (refused during the TLS handshake, as nats-server does).
 */
function secureServer(o: TlsOptions): https.Server {
  return https.createServer({
    ...secureContextOptions(o),
    requestCert: o.verify,
    rejectUnauthorized: o.verify,
    handshakeTimeout: o.timeoutMs,
  });
}

function deflateOptions(): PerMessageDeflateOptions {
  // nats-server negotiates no context takeover both ways (no per-connection window kept between
  // messages) and leaves small messages uncompressed.
  return { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 64 };
}

/** RFC 6455 §4.2.1 points 1–6, in nats-server's order and with its messages. */
export function checkUpgradeRequest(req: IncomingMessage): UpgradeRejection | undefined {
  if (req.method !== "GET") return { status: 405, reason: "request method must be GET" };
  if (!req.headers.host) return { status: 400, reason: "'Host' missing in request" };
  if (!headerContains(req, "upgrade", "websocket")) {
    return { status: 400, reason: "invalid value for header 'Upgrade'" };
  }
  if (!headerContains(req, "connection", "upgrade")) {
    return { status: 400, reason: "invalid value for header 'Connection'" };
  }
  if (!req.headers["sec-websocket-key"]) return { status: 400, reason: "key missing" };
  if (!headerContains(req, "sec-websocket-version", "13")) return { status: 400, reason: "invalid version" };
  return undefined;
}

/** True when any comma-separated token of header `name` equals `value`, ignoring case. */
function headerContains(req: IncomingMessage, name: string, value: string): boolean {
  const want = value.toLowerCase();
  for (const line of req.headersDistinct[name] ?? []) {
    for (const token of line.split(",")) {
      if (token.trim().toLowerCase() === want) return true;
    }
  }
  return false;
}

/** allowed_origins entries keyed by host, as nats-server stores them; unparsable entries are skipped. */
export function parseAllowedOrigins(
  origins: readonly string[],
  onInvalid: (origin: string) => void = () => {},
): Map<string, AllowedOrigin> {
  const map = new Map<string, AllowedOrigin>();
  for (const o of origins) {
    const u = parseOrigin(o);
    if (u === undefined) onInvalid(o);
    else map.set(u.host, { scheme: u.scheme, port: u.port });
  }
  return map;
}

interface ParsedOrigin {
  scheme: string;
  host: string;
  port: string;
}

function parseOrigin(s: string): ParsedOrigin | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.slice(0, -1);
  return {
    scheme,
    host: stripBrackets(u.hostname.toLowerCase()),
    port: u.port || (scheme === "https" ? "443" : "80"),
  };
}

/** Why the request's origin is refused, or undefined if it is accepted. */
export function originError(
  req: IncomingMessage,
  sameOrigin: boolean,
  allowed: ReadonlyMap<string, AllowedOrigin>,
): string | undefined {
  if (!sameOrigin && allowed.size === 0) return undefined;
  const header = req.headers.origin || firstHeader(req.headers["sec-websocket-origin"]);
  // Dedicated (non-browser) clients can claim any origin, so a missing one is not a reason to refuse.
  if (!header) return undefined;
  const origin = parseOrigin(header);
  if (origin === undefined) return `invalid origin ${JSON.stringify(header)}`;
  if (sameOrigin) {
    const host = splitHostPort(req.headers.host ?? "", "80");
    if (origin.host !== host.host || origin.port !== host.port) return "not same origin";
  }
  if (allowed.size > 0) {
    const a = allowed.get(origin.host);
    if (a === undefined || a.scheme !== origin.scheme || a.port !== origin.port)
      return "not in the allowed list";
  }
  return undefined;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function splitHostPort(hostport: string, defaultPort: string): { host: string; port: string } {
  const m = /^\[([^\]]*)\](?::(\d*))?$/.exec(hostport) ?? /^([^:]*)(?::(\d*))?$/.exec(hostport);
  if (m === null) return { host: hostport.toLowerCase(), port: defaultPort };
  return { host: m[1].toLowerCase(), port: m[2] || defaultPort };
}

function stripBrackets(h: string): string {
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/** A refused upgrade gets the response Go's http.Error writes, then the socket is closed. */
function rejectUpgrade(socket: Duplex, status: number): void {
  const body = `${http.STATUS_CODES[status] ?? "Error"}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Date: ${new Date().toUTCString()}\r\n` +
      "X-Content-Type-Options: nosniff\r\n" +
      "Sec-Websocket-Version: 13\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
  socket.once("finish", () => socket.destroy());
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The URL clients are told to use: the advertise address, else the listen host (loopback for "any"). */
function connectHostPort(o: WebSocketOptions, port: number): string {
  if (o.advertise) {
    const a = splitHostPort(o.advertise, String(port));
    return hostPort(a.host, Number(a.port));
  }
  const any = o.host === "" || o.host === "0.0.0.0" || o.host === "::";
  return hostPort(any ? "127.0.0.1" : o.host, port);
}
