// A TCP proxy on 127.0.0.1 that a test controls, to put network partitions between servers (routes,
// gateways, leaf nodes) or between a client and a server.
//
//   const p = await startTcpProxy({ target: { host: "127.0.0.1", port } });
//   ... point a route / leaf remote / client at p.url() ...
//   p.cut();                        // partition: connections reset, new ones accepted then closed at once
//   p.cut({ mode: "blackhole" });   // partition: sockets stay open, every byte is silently dropped both ways
//   p.heal();                       // forward new connections again
//   await p.close();
//
// Each accepted connection gets its own connection to the target (made at accept time, while forwarding).
// Nothing here uses timers; close() destroys every socket and the listener.

import net from "node:net";

export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * How the proxy treats connections:
 * - "forward": pass bytes both ways (the normal state);
 * - "reset": existing connections are reset (RST) and new ones are accepted then closed at once (FIN);
 * - "blackhole": existing connections stay open but bytes are read and discarded in both directions; new ones
 *   are accepted and held the same way without connecting to the target. Peers see no close, only silence,
 *   so they must notice through their own ping / stale-connection timers.
 */
export type ProxyMode = "forward" | "reset" | "blackhole";

export interface TcpProxyOptions {
  /** Where to forward; may be given later with setTarget(). Without a target, new connections are closed. */
  target?: ProxyTarget;
  /** Port to listen on (default 0: a free port picked by the system). */
  port?: number;
}

export interface ProxyBytes {
  /** Bytes forwarded from accepted connections to the target. */
  toTarget: number;
  /** Bytes forwarded from the target back to the accepted connections. */
  toClient: number;
  /** Bytes read from accepted connections and dropped (blackhole). */
  droppedToTarget: number;
  /** Bytes read from the target side and dropped (blackhole). */
  droppedToClient: number;
}

export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** `${scheme}://127.0.0.1:${port}`, e.g. for a route, leaf remote, or client URL. */
  url(scheme?: string): string;
  /** The current target, if any. */
  readonly target: ProxyTarget | undefined;
  /** Set (or change) the target; applies to connections accepted from now on. */
  setTarget(target: ProxyTarget): void;
  /** The current mode. */
  readonly mode: ProxyMode;
  /**
   * Partition. mode "reset" (default): every current connection is reset (RST), new ones are accepted then
   * closed at once. mode "blackhole": current connections stay open with their bytes dropped both ways, new
   * ones are accepted and held without reaching the target.
   */
  cut(opts?: { mode?: "reset" | "blackhole" }): void;
  /**
   * End the partition: new connections are forwarded again. Connections that were blackholed have lost
   * bytes, so their streams are broken: they are reset now (the peers reconnect through the healed proxy).
   */
  heal(): void;
  /** Accepted connections currently open. */
  readonly connections: number;
  /** Connections accepted since the start, whatever happened to them. */
  readonly accepted: number;
  /** A snapshot of the byte counters. */
  readonly bytes: ProxyBytes;
  /** Reset every current connection without changing the mode (a one-off blip: peers reconnect at once). */
  dropConnections(): void;
  /** Stop listening and destroy every socket. Idempotent. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Bytes of this pair are being dropped. */
  blackholed: boolean;
}

function hardClose(socket: net.Socket | undefined): void {
  if (socket === undefined || socket.destroyed) return;
  try {
    // An RST, as a crashed peer or a firewall rejecting would give; a socket still connecting can't reset.
    if (!socket.connecting) {
      socket.resetAndDestroy();
      return;
    }
  } catch {
    // fall through
  }
  socket.destroy();
}

export async function startTcpProxy(opts: TcpProxyOptions = {}): Promise<TcpProxy> {
  let target = opts.target;
  let mode: ProxyMode = "forward";
  let accepted = 0;
  let closed = false;
  const pairs = new Set<Pair>();
  const bytes: ProxyBytes = { toTarget: 0, toClient: 0, droppedToTarget: 0, droppedToClient: 0 };

  const closePair = (pair: Pair): void => {
    pairs.delete(pair);
    hardClose(pair.client);
    hardClose(pair.upstream);
  };

  /** Forget a pair once both of its sockets are gone. */
  const forgetIfGone = (pair: Pair): void => {
    if (pair.client.destroyed && (pair.upstream === undefined || pair.upstream.destroyed)) pairs.delete(pair);
  };

  /** Copy bytes from `from` to `to`, honouring backpressure, dropping them while the pair is blackholed. */
  const relay = (pair: Pair, from: net.Socket, to: net.Socket, towardsTarget: boolean): void => {
    from.on("data", (chunk: Buffer) => {
      if (pair.blackholed) {
        if (towardsTarget) bytes.droppedToTarget += chunk.length;
        else bytes.droppedToClient += chunk.length;
        return;
      }
      if (towardsTarget) bytes.toTarget += chunk.length;
      else bytes.toClient += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    });
    // Half-close travels through: the peer's FIN becomes our FIN on the other side.
    from.on("end", () => {
      if (!pair.blackholed && !to.destroyed) to.end();
    });
    // A failed socket (reset by its peer, refused, ...) takes its partner down the same way.
    from.on("close", (hadError) => {
      if (hadError) closePair(pair);
      else forgetIfGone(pair);
    });
  };

  const onConnection = (client: net.Socket): void => {
    accepted++;
    client.on("error", () => {});
    if (closed || mode === "reset" || target === undefined) {
      // Accepted, then closed at once (FIN: an RST this early can fail the peer's connect() itself).
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, blackholed: mode === "blackhole" };
    pairs.add(pair);
    if (pair.blackholed) {
      // Held: read and drop, never connect to the target.
      client.on("data", (chunk: Buffer) => {
        bytes.droppedToTarget += chunk.length;
      });
      client.once("close", () => forgetIfGone(pair));
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    pair.upstream = upstream;
    upstream.on("error", () => {});
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    relay(pair, client, upstream, true);
    relay(pair, upstream, client, false);
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, onConnection);
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (scheme = "nats") => `${scheme}://127.0.0.1:${port}`,
    get target() {
      return target === undefined ? undefined : { ...target };
    },
    setTarget(t: ProxyTarget) {
      target = { host: t.host, port: t.port };
    },
    get mode() {
      return mode;
    },
    cut(cutOpts = {}) {
      const m = cutOpts.mode ?? "reset";
      mode = m;
      for (const pair of [...pairs]) {
        if (m === "reset") closePair(pair);
        else pair.blackholed = true;
      }
    },
    heal() {
      mode = "forward";
      for (const pair of [...pairs]) if (pair.blackholed) closePair(pair);
    },
    get connections() {
      let n = 0;
      for (const pair of pairs) if (!pair.client.destroyed) n++;
      return n;
    },
    get accepted() {
      return accepted;
    },
    get bytes() {
      return { ...bytes };
    },
    dropConnections() {
      for (const pair of [...pairs]) closePair(pair);
    },
    async close() {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of [...pairs]) closePair(pair);
      await stopped;
    },
  };
}
