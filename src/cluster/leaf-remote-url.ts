import { DEFAULT_LEAFNODE_PORT } from "./options.js";

/** One URL of a leaf remote, as the spoke dials it. */
export interface LeafRemoteUrl {
  /** As written in the configuration. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Credentials in the URL: user and password, or a lone token. */
  readonly user?: string;
  readonly pass?: string;
  /** `ws://` or `wss://`: the leaf protocol rides in websocket binary frames. */
  readonly websocket: boolean;
  /** `tls://` or `wss://`: the link is secured whatever the hub's INFO says. */
  readonly tls: boolean;
  /** Websocket request path: the URL's path joined with `leafnode`, as nats-server asks for it. */
  readonly path: string;
}

/**
 * Parse a remote URL (`nats-leaf://`, `nats://`, `tls://`, `ws://`, `wss://`; a bare `host:port` is
 * `nats-leaf://`). A URL without a port is dialled on 7422, or on 80/443 for websockets.
 */
export function parseLeafRemoteUrl(text: string): LeafRemoteUrl {
  const u = new URL(text.includes("://") ? text : `nats-leaf://${text}`);
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  const websocket = scheme === "ws" || scheme === "wss";
  const secure = scheme === "tls" || scheme === "wss";
  const defaultPort = websocket ? (secure ? 443 : 80) : DEFAULT_LEAFNODE_PORT;
  const own = u.pathname.replace(/^\/+|\/+$/g, "");
  return {
    url: text,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? defaultPort : Number(u.port),
    user: u.username === "" ? undefined : decodeURIComponent(u.username),
    pass: u.password === "" ? undefined : decodeURIComponent(u.password),
    websocket,
    tls: secure,
    path: own === "" ? "/leafnode" : `/${own}/leafnode`,
  };
}
