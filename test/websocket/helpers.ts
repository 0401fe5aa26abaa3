// Shared helpers for the websocket tests: a server with the websocket listener on free ports, NATS clients
// over websocket (through the `ws` package, since Node 20 has no global WebSocket) and over TCP, and raw
// HTTP upgrade requests for the handshake rules.

import http from "node:http";
import { connect, type NatsConnection, type WsSocketFactory, wsconnect } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { launchServer } from "../../src/server/launch.js";
import {
  defaultOptions,
  defaultWebSocketOptions,
  type ServerOptions,
  type WebSocketOptions,
} from "../../src/server/options.js";
import type { Server } from "../../src/server/server.js";

export interface WsTestServer {
  server: Server;
  /** `ws://127.0.0.1:<port>` as the server reports it. */
  wsUrl: string;
  wsPort: number;
  natsUrl: string;
}

export async function startWsServer(
  ws: Partial<WebSocketOptions> = {},
  server: Partial<ServerOptions> = {},
): Promise<WsTestServer> {
  const opts: ServerOptions = {
    ...defaultOptions(),
    host: "127.0.0.1",
    port: -1,
    quiet: true,
    ...server,
    websocket: { ...defaultWebSocketOptions(), host: "127.0.0.1", port: -1, noTls: true, ...ws },
  };
  const s = await launchServer(opts);
  const wsUrl = s.listenerUrls().websocket?.[0];
  if (wsUrl === undefined) throw new Error("no websocket listener url");
  return { server: s, wsUrl, wsPort: Number(new URL(wsUrl).port), natsUrl: s.clientUrl };
}

type W3CWebSocket = Awaited<ReturnType<WsSocketFactory>>["socket"];

export interface WsClientOptions {
  origin?: string;
  /** Offer permessage-deflate (off by default, so tests see exactly what the server negotiates). */
  compression?: boolean;
  name?: string;
  /** Receives the underlying ws client socket, e.g. to inspect negotiated extensions. */
  onSocket?: (socket: WebSocket) => void;
}

/**
 * A NATS client over websocket. The ws package's client stands in for the browser WebSocket; a factory
 * (rather than a global) lets each test choose Origin and compression. Reconnect is off because the
 * nats.js transport factory is process-global: a reconnect could pick up the TCP factory.
 */
export function wsClient(url: string, opts: WsClientOptions = {}): Promise<NatsConnection> {
  return wsconnect({
    servers: url,
    name: opts.name,
    reconnect: false,
    wsFactory: async (u: string) => {
      const socket = new WebSocket(u, { origin: opts.origin, perMessageDeflate: opts.compression ?? false });
      opts.onSocket?.(socket);
      // ws implements the W3C surface nats.js uses (binaryType, on* handlers, send, close, bufferedAmount);
      // its typings just lack a few DOM members.
      return { socket: socket as unknown as W3CWebSocket, encrypted: false };
    },
  });
}

export function tcpClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, reconnect: false });
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the server switched protocols. */
  upgraded: boolean;
}

/** Send one HTTP request to the websocket port and report what came back (101 is closed at once). */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>) {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "", upgraded: true });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, upgraded: false }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** The headers of a valid RFC 6455 client handshake. */
export function upgradeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Connection: "Upgrade",
    Upgrade: "websocket",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...extra,
  };
}
