import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { WebSocketTransport } from "../websocket/transport.js";
import type { PendingDial } from "./dialer.js";
import { forHost, handshakeErrorText, type LeafClientTls } from "./leaf-remote-tls.js";
import type { LeafRemoteUrl } from "./leaf-remote-url.js";

/** What a websocket leaf remote asks of the hub. */
export interface LeafWebSocketOptions {
  /** TLS (wss://, or a remote with `tls { }`), with the remote's certificate settings. */
  readonly tls: LeafClientTls | undefined;
  /** `ws_compression`: offer permessage-deflate without context takeover, as nats-server does. */
  readonly compress: boolean;
  /** Largest frame accepted from the hub. */
  readonly maxFrame: number;
}

/**
 * Open a websocket to a hub's `/leafnode` path (the URL's own path in front, as nats-server builds it);
 * the leaf protocol then rides in binary frames. A hub that does not take up compression is used without
 * it; one that takes it up but keeps context between messages is refused, as nats-server refuses it.
 */
export function dialLeafWebSocket(
  u: LeafRemoteUrl,
  o: LeafWebSocketOptions,
  timeoutMs: number,
): PendingDial<WebSocketTransport> {
  const secure = o.tls !== undefined;
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const ws = new WebSocket(`${secure ? "wss" : "ws"}://${host}:${u.port}${u.path}`, {
    ...(o.tls === undefined ? {} : forHost(o.tls, u.host)),
    handshakeTimeout: timeoutMs,
    perMessageDeflate: o.compress ? { clientNoContextTakeover: true, serverNoContextTakeover: true } : false,
    maxPayload: o.maxFrame,
    skipUTF8Validation: true,
    followRedirects: false,
  });
  const result = new Promise<WebSocketTransport>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    ws.once("upgrade", (res) => {
      response = res;
      if (o.compress && !contextTakeoverOff(res)) {
        ws.terminate();
        reject(new Error("compression negotiation error"));
      }
    });
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      reject(new Error(`invalid websocket connection (HTTP ${res.statusCode ?? "?"})`));
    });
    ws.once("error", (err) => reject(new Error(handshakeErrorText(err))));
    ws.once("open", () => {
      if (response === undefined) {
        ws.terminate();
        reject(new Error("invalid websocket connection"));
        return;
      }
      resolve(new WebSocketTransport(ws, response));
    });
  });
  result.catch(() => {});
  return { result, cancel: () => ws.terminate() };
}

/** permessage-deflate was declined, or accepted with no context takeover both ways. */
function contextTakeoverOff(res: IncomingMessage): boolean {
  const ext = String(res.headers["sec-websocket-extensions"] ?? "").toLowerCase();
  if (!ext.includes("permessage-deflate")) return true;
  return ext.includes("server_no_context_takeover") && ext.includes("client_no_context_takeover");
}
