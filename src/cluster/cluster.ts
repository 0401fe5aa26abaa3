import { randomBytes } from "node:crypto";
import type net from "node:net";
import { Permissions } from "../auth/permissions.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import { TcpTransport, type Transport } from "../server/transport.js";
import { secureContextOptions, TlsAcceptor } from "../tls/index.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import { dialSocket, Redialer } from "./dialer.js";
import { displayHost, hostPort, LinkListener } from "./link-listener.js";
import { LinkManager, type LinkServerHost } from "./link-manager.js";
import { type InterestEntry, LocalInterest } from "./local-interest.js";
import type { ClusterOptions } from "./options.js";
import { RouteConnection, type RouteHost } from "./route.js";
import { parseRouteUrl, type RouteConnectInfo, type RouteInfo } from "./route-info.js";

/** The server as the cluster sees it. */
export interface ClusterServerHost extends LinkServerHost {
  readonly jetStreamEnabled: boolean;
  /** This server's client URLs (`host:port`), as advertised to clients of other servers. */
  clientConnectUrls(): string[];
  /** The cluster's client URLs changed (servers joined, left, or entered lame-duck mode). */
  connectUrlsChanged(): void;
  /** Gateways: this server's gateway URL (`host:port`), told to peers in the route INFO. */
  gatewayUrl?(): string | undefined;
  /** Gateways: a route registered or closed (the `gateway_url` of its INFO joins or leaves the cluster's). */
  gatewayRouteChanged?(route: RouteConnection, up: boolean): void;
  /** Gateways: a gateway INFO (`gateway_cmd` 1) a peer forwarded: a remote cluster to connect to. */
  gatewayGossip?(info: RouteInfo): void;
}

/** How long an accepted route may take to send its CONNECT. */
const ROUTE_AUTH_TIMEOUT_MS = 2000;

/**
 * The cluster: a full mesh of routes to every other server with the same cluster name. Accepts routes on
 * the cluster port, dials the configured ones (and those it learns by gossip), keeps one route per peer,
 * tells every route this server's interest as it changes, and merges the peers' client URLs into what
 * clients are told.
 */
export class Cluster extends LinkManager<ClusterServerHost> implements RouteHost {
  /** Registered routes by peer server id. */
  readonly routes = new Map<string, RouteConnection>();
  /** Every route connection, registered or still in its handshake. */
  readonly connections = new Set<RouteConnection>();
  /** This server's interest as peers hear it; each server has its own service imports, so not those. */
  private readonly interest = new LocalInterest(
    (sub) => LocalInterest.counts(sub) && sub.owner.serviceImport !== true,
  );
  private readonly watched = new Map<Account, () => void>();
  /** Dialers by route URL: configured routes (forever) and gossiped ones (a few tries). */
  private readonly dialers = new Map<
    string,
    { dialer: Redialer<net.Socket>; explicit: boolean; peerId?: string }
  >();
  private readonly listener: LinkListener;
  private name: string;
  private dynamicName: boolean;
  /**
   * Route `permissions`: `import` limits the interest we announce (what peers may send us), `export` the
   * peer interest we accept (what we send them). Subscribe-style matching, so wildcards are checked as a whole.
   */
  private readonly importRules: Permissions | undefined;
  private readonly exportRules: Permissions | undefined;
  private readonly tlsDial: import("node:tls").ConnectionOptions | undefined;
  private stopped = false;
  port = 0;
  /** Routes accepted/dialled since start, for monitoring. */
  totalRoutes = 0;

  constructor(
    host: ClusterServerHost,
    readonly config: ClusterOptions,
  ) {
    super(host);
    this.dynamicName = config.name === undefined || config.name === "";
    this.name = this.dynamicName ? randomBytes(11).toString("base64url").toUpperCase() : config.name!;
    this.importRules = Permissions.from(
      config.permissions?.import ? { subscribe: config.permissions.import } : undefined,
    );
    this.exportRules = Permissions.from(
      config.permissions?.export ? { subscribe: config.permissions.export } : undefined,
    );
    // Routes with `tls { }` start TLS at once on both sides (no plain-text INFO first).
    let tlsAcceptor: TlsAcceptor | undefined;
    if (config.tls !== undefined) {
      tlsAcceptor = new TlsAcceptor(
        { ...config.tls, handshakeFirst: true, handshakeFirstFallbackMs: 0 },
        false,
      );
      this.tlsDial = {
        ...secureContextOptions(config.tls),
        // Peers present certificates of this cluster; verification follows the block's `verify`/ca settings.
        rejectUnauthorized: config.tls.caFile !== undefined,
      };
    }
    this.listener = new LinkListener(this.logger, (t) => this.acceptTransport(t), tlsAcceptor);
  }

  get clusterName(): string {
    return this.name;
  }

  /** Listen on the cluster port and dial the configured routes. Resolves with the listen URL. */
  async start(): Promise<string> {
    const c = this.config;
    for (const account of this.host.accounts.values()) this.watch(account);
    this.port = await this.listener.listen(c.host, c.port);
    this.logger.info(`Cluster name is ${this.name}`);
    this.logger.info(`Listening for route connections on ${hostPort(c.host, this.port)}`);
    for (const url of c.routes) this.dialRoute(url, true);
    return `nats-route://${displayHost(c.host)}:${this.port}`;
  }

  /** Follow an account's interest (accounts created after start are watched when they appear). */
  watch(account: Account): void {
    if (this.watched.has(account) || this.stopped) return;
    this.interest.seed(account);
    const off = account.onInterest((acc, change) => {
      const d = this.interest.change(acc, change.sub, change.kind === "add" ? 1 : -1);
      if (d === undefined) return;
      for (const r of this.routes.values()) r.sendInterest(acc, d.entry, d.op === "add");
    });
    this.watched.set(account, off);
    // Peers already connected learn about interest that existed before the account was watched.
    for (const e of this.interest.entries(account))
      for (const r of this.routes.values()) r.sendInterest(account, e, true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.dialers.values()) d.dialer.stop();
    for (const off of this.watched.values()) off();
    this.watched.clear();
    for (const r of [...this.connections]) r.close(CloseReason.ServerShutdown);
    await this.listener.stop();
  }

  /** Tell peers this server is in lame-duck mode (they stop advertising its client URLs). */
  enterLameDuckMode(): void {
    const info = this.routeInfo();
    info.ldm = true;
    const line = `INFO ${JSON.stringify(info)}\r\n`;
    for (const r of this.routes.values()) r.sendProto(line);
  }

  /** The route dialers, for monitoring: URL, configured or gossiped, the peer reached, connects made. */
  *dialerStats(): IterableIterator<{
    url: string;
    explicit: boolean;
    peerId: string | undefined;
    connects: number;
  }> {
    for (const [url, d] of this.dialers)
      yield { url, explicit: d.explicit, peerId: d.peerId, connects: d.dialer.connects };
  }

  /** Client URLs of the other servers (unique), for this server's client INFO. */
  peerConnectUrls(): string[] {
    const out = new Set<string>();
    for (const r of this.routes.values()) {
      if (r.remote?.ldm) continue;
      for (const u of r.remote?.connect_urls ?? []) out.add(u);
    }
    return [...out];
  }

  private acceptTransport(transport: Transport): RouteConnection {
    const timeout = this.config.authorization?.timeoutMs ?? ROUTE_AUTH_TIMEOUT_MS;
    const route = new RouteConnection(this.host.nextConnectionId(), transport, this, undefined, timeout);
    this.connections.add(route);
    this.logger.debug(`${route.describe()} - Route connection created`);
    return route;
  }

  private dialRoute(text: string, explicit: boolean): void {
    let target: ReturnType<typeof parseRouteUrl>;
    try {
      target = parseRouteUrl(text);
    } catch (err) {
      this.logger.error(`Route ${text}: ${(err as Error).message}`);
      return;
    }
    if (this.dialers.has(target.url)) return;
    const entry: { dialer: Redialer<net.Socket>; explicit: boolean; peerId?: string } = {
      explicit,
      dialer: undefined as unknown as Redialer<net.Socket>,
    };
    entry.dialer = new Redialer(
      { host: target.host, port: target.port, tls: this.tlsDial },
      {
        dial: dialSocket,
        retries: explicit ? this.config.connectRetries : Math.max(3, this.config.connectRetries),
        minDelayMs: 250,
        maxDelayMs: 2000,
        timeoutMs: 2000,
        logger: this.logger,
        what: "route",
      },
      (socket) => {
        if (this.stopped) {
          socket.destroy();
          return;
        }
        const route = new RouteConnection(
          this.host.nextConnectionId(),
          new TcpTransport(socket),
          this,
          target.url,
          ROUTE_AUTH_TIMEOUT_MS,
        );
        route.credentials = { user: target.user, pass: target.pass };
        this.connections.add(route);
        this.logger.debug(`${route.describe()} - Route connection created`);
      },
      () => {
        if (!entry.explicit) this.dialers.delete(target.url);
      },
    );
    this.dialers.set(target.url, entry);
    entry.dialer.start();
  }

  // RouteHost

  connectionClosed(conn: unknown): void {
    const route = conn as RouteConnection;
    if (!this.connections.delete(route)) return;
    const id = route.remote?.server_id;
    const wasRegistered = id !== undefined && this.routes.get(id) === route;
    if (wasRegistered) {
      this.routes.delete(id!);
      this.logger.info(`${route.describe()} - Route connection closed: ${route.closeReason}`);
      if ((route.remote?.connect_urls?.length ?? 0) > 0) this.host.connectUrlsChanged();
      this.host.gatewayRouteChanged?.(route, false);
    } else {
      this.logger.debug(`${route.describe()} - Route connection closed: ${route.closeReason}`);
    }
    if (this.stopped) return;
    // The dialer that made it tries again; a lost peer we did not dial is redialled at its gossiped URL.
    const dialer = route.solicitedUrl === undefined ? undefined : this.dialers.get(route.solicitedUrl);
    if (dialer !== undefined) {
      if (route.closeReason === CloseReason.DuplicateRoute && id !== undefined && this.routes.has(id)) {
        dialer.dialer.connected = false;
        dialer.peerId = id;
      } else if (route.selfRoute) {
        dialer.dialer.stop();
      } else {
        dialer.dialer.lost();
      }
    }
    if (wasRegistered) {
      for (const d of this.dialers.values()) {
        if (d.peerId === id && d.dialer !== dialer?.dialer) d.dialer.lost();
      }
    }
  }

  routeInfoJson(): string {
    return JSON.stringify(this.routeInfo());
  }

  private routeInfo(): RouteInfo & Record<string, unknown> {
    const c = this.config;
    const info: RouteInfo & Record<string, unknown> = {
      server_id: this.host.id,
      server_name: this.host.name,
      version: NATS_FEATURE_LEVEL,
      go: "lattice",
      host: c.host,
      port: this.port,
      headers: true,
      max_payload: this.options.maxPayload,
      tls_required: this.config.tls !== undefined,
      // JetStream is not clustered across routes (yet): peers must not count this server in a meta group.
      jetstream: false,
      cluster: this.name,
      lnoc: true,
      proto: 2,
    };
    if (this.dynamicName) info.cluster_dynamic = true;
    if (c.advertise) info.ip = `nats-route://${c.advertise}/`;
    if (!c.noAdvertise) {
      const urls = this.host.clientConnectUrls();
      if (urls.length > 0) info.connect_urls = urls;
    }
    const gatewayUrl = this.host.gatewayUrl?.();
    if (gatewayUrl !== undefined) info.gateway_url = gatewayUrl;
    if (c.authorization?.user || c.authorization?.token) info.auth_required = true;
    return info;
  }

  connectJson(route: RouteConnection): string {
    const creds = route.credentials;
    const auth = this.config.authorization;
    const c: RouteConnectInfo & Record<string, unknown> = {
      echo: true,
      verbose: false,
      pedantic: false,
      tls_required: this.config.tls !== undefined,
      headers: true,
      name: this.host.id,
      cluster: this.name,
      lnoc: true,
    };
    if (this.dynamicName) c.cluster_dynamic = true;
    const user = creds?.user ?? auth?.user;
    const pass = creds?.pass ?? auth?.password;
    if (user !== undefined) {
      c.user = user;
      if (pass !== undefined) c.pass = pass;
    } else if (auth?.token !== undefined) {
      c.auth_token = auth.token;
    }
    return JSON.stringify(c);
  }

  /** Whether a server of this cluster (this one or a routed peer) goes by `name`. */
  hasServerNamed(name: string | undefined): boolean {
    if (name === undefined || name === "") return false;
    if (name === this.host.name) return true;
    for (const r of this.routes.values()) if (r.remote?.server_name === name) return true;
    return false;
  }

  checkConnect(c: RouteConnectInfo): string | undefined {
    const auth = this.config.authorization;
    if (auth === undefined) return undefined;
    if (auth.token !== undefined)
      return c.auth_token === auth.token ? undefined : "route authentication failed (token)";
    if (auth.user !== undefined) {
      if (c.user !== auth.user || (auth.password !== undefined && c.pass !== auth.password))
        return `route authentication failed for user "${c.user ?? ""}"`;
    }
    return undefined;
  }

  routeReady(route: RouteConnection, info: RouteInfo): boolean {
    const id = info.server_id;
    if (id === undefined || id === "") {
      route.close(CloseReason.ProtocolViolation, "Protocol Error");
      return false;
    }
    if (id === this.host.id) {
      this.logger.debug(`${route.describe()} - Detected route to self, ignoring`);
      route.selfRoute = true;
      route.close(CloseReason.DuplicateRoute);
      return false;
    }
    if (info.route_account !== undefined && info.route_account !== "") {
      // A 2.10+ peer's dedicated account route: this server carries every account on its one route.
      route.close(CloseReason.DuplicateRoute);
      return false;
    }
    const theirs = info.cluster ?? "";
    if (theirs !== this.name) {
      if (this.dynamicName && (!info.cluster_dynamic || theirs > this.name)) {
        this.logger.info(`Cluster name changed from ${this.name} to ${theirs}`);
        this.name = theirs;
      } else if (!(info.cluster_dynamic && (!this.dynamicName || this.name > theirs))) {
        const text = `Rejecting connection, cluster name "${theirs}" does not match "${this.name}"`;
        this.logger.error(`${route.describe()} - ${text}`);
        route.close(CloseReason.ClusterNameConflict, text);
        return false;
      }
    }
    if (info.server_name !== undefined && info.server_name !== "" && info.server_name === this.host.name) {
      this.logger.error(`${route.describe()} - Remote server has a duplicate name: "${info.server_name}"`);
      route.close(CloseReason.DuplicateServerName);
      return false;
    }
    for (const r of this.routes.values()) {
      if (r.remote?.server_id !== id && r.remote?.server_name === info.server_name && info.server_name) {
        this.logger.error(`${route.describe()} - Remote server has a duplicate name: "${info.server_name}"`);
        route.close(CloseReason.DuplicateServerName);
        return false;
      }
    }
    if (this.routes.has(id)) {
      this.logger.debug(`${route.describe()} - Detected duplicate remote route "${id}"`);
      route.close(CloseReason.DuplicateRoute);
      return false;
    }
    // Where the peer can be dialled: what it advertises, else its address and cluster port.
    if (info.ip === undefined && info.port !== undefined && info.port > 0) {
      const h = route.transport.remoteAddress;
      info.ip = `nats-route://${h.includes(":") ? `[${h}]` : h}:${info.port}/`;
    }
    this.routes.set(id, route);
    this.totalRoutes++;
    const dialer = route.solicitedUrl === undefined ? undefined : this.dialers.get(route.solicitedUrl);
    if (dialer !== undefined) dialer.peerId = id;
    this.logger.info(`${route.describe()} - Route connection registered (${info.server_name ?? id})`);
    // Gossip: every other peer learns of the new one and dials it if it has not yet.
    const line = `INFO ${JSON.stringify(info)}\r\n`;
    for (const r of this.routes.values()) if (r !== route) r.sendProto(line);
    if ((info.connect_urls?.length ?? 0) > 0) this.host.connectUrlsChanged();
    this.host.gatewayRouteChanged?.(route, true);
    return true;
  }

  routeUpdated(route: RouteConnection, info: RouteInfo): void {
    const before = route.remote;
    if (before === undefined) return;
    let urlsChanged = false;
    if (
      info.connect_urls !== undefined &&
      JSON.stringify(info.connect_urls) !== JSON.stringify(before.connect_urls)
    ) {
      before.connect_urls = info.connect_urls;
      urlsChanged = true;
    }
    if (info.ldm === true && before.ldm !== true) {
      before.ldm = true;
      this.logger.info(`${route.describe()} - Peer entered lame duck mode`);
      urlsChanged = true;
    }
    if (urlsChanged) this.host.connectUrlsChanged();
  }

  gossip(info: RouteInfo): void {
    if (info.gateway !== undefined && info.gateway !== "") {
      this.host.gatewayGossip?.(info);
      return;
    }
    const id = info.server_id;
    if (id === undefined || id === this.host.id || this.routes.has(id)) return;
    if ((info.cluster ?? "") !== this.name && !info.cluster_dynamic && !this.dynamicName) return;
    if (info.ip === undefined) return;
    for (const r of this.connections) if (r.remote?.server_id === id) return;
    this.dialRoute(info.ip.replace(/\/$/, ""), false);
  }

  *localInterest(): Iterable<[Account, Iterable<InterestEntry>]> {
    for (const account of this.interest.accounts()) yield [account, this.interest.entries(account)];
  }

  mayImport(subject: string, queue: string | undefined): boolean {
    return this.importRules === undefined || this.importRules.canSubscribe(subject, queue);
  }

  mayExport(subject: string, queue: string | undefined): boolean {
    return this.exportRules === undefined || this.exportRules.canSubscribe(subject, queue);
  }
}
