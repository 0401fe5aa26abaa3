import type { Logger } from "../logger.js";
import type { Transport } from "../server/transport.js";
import { type Dial, dialSocket, type PendingDial } from "./dialer.js";
import { forHost, handshakeErrorText, type LeafClientTls } from "./leaf-remote-tls.js";
import type { LeafRemoteUrl } from "./leaf-remote-url.js";
import { dialLeafWebSocket } from "./leaf-websocket-dial.js";
import { hostPort } from "./link-listener.js";
import type { LeafRemote } from "./options.js";
import { UpgradableTransport } from "./upgradable-transport.js";

export interface LeafRemoteDialContext {
  readonly config: LeafRemote;
  readonly clientTls: LeafClientTls;
  /** Largest websocket frame accepted from the hub. */
  readonly maxFrame: number;
  readonly logger: Logger;
  /** The URL to dial now (the remote rotates through its URLs). */
  current(): LeafRemoteUrl;
  /** False once the server stops: failures are no longer worth logging. */
  running(): boolean;
}

/** TLS was asked for by the remote itself: a `tls { }` block, or a `tls://` or `wss://` URL. */
export function remoteWantsTls(config: LeafRemote, u: LeafRemoteUrl): boolean {
  return config.tls !== undefined || u.tls;
}

/**
 * How a remote reaches its hub: a websocket for `ws://` and `wss://` URLs, else a TCP socket (TLS from the
 * first byte with `handshake_first`, otherwise upgraded by the connection after the hub's INFO). Failed
 * websocket and TLS handshakes are logged as errors; refused TCP connects only at debug level (the
 * redialer's), as they repeat while a hub is down.
 */
export function leafRemoteDial(ctx: LeafRemoteDialContext): Dial<Transport> {
  return (_target, timeoutMs): PendingDial<Transport> => {
    const u = ctx.current();
    const secured = remoteWantsTls(ctx.config, u);
    if (u.websocket) {
      const pending = dialLeafWebSocket(
        u,
        {
          tls: secured ? ctx.clientTls : undefined,
          compress: ctx.config.wsCompression,
          maxFrame: ctx.maxFrame,
        },
        timeoutMs,
      );
      pending.result.catch((err: Error) => {
        if (ctx.running()) ctx.logger.error(`Error soliciting websocket connection: ${err.message}`);
      });
      return pending;
    }
    const first = secured && ctx.clientTls.first;
    const pending = dialSocket(
      { host: u.host, port: u.port, tls: first ? forHost(ctx.clientTls, u.host) : undefined },
      timeoutMs,
    );
    const result = pending.result.then((socket): Transport => new UpgradableTransport(socket));
    result.catch((err: Error) => {
      if (first && isTlsError(err) && ctx.running())
        ctx.logger.error(
          `${hostPort(u.host, u.port)} - TLS leafnode handshake error: ${handshakeErrorText(err)}`,
        );
    });
    return { result, cancel: pending.cancel };
  };
}

/** A failed TLS handshake (a certificate check or TLS alert), not a failed TCP connect. */
function isTlsError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || (code !== "" && !code.startsWith("E"));
}
