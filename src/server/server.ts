import { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import net from "node:net";
import { networkInterfaces } from "node:os";
import type { KeyPair } from "@nats-io/nkeys";
import { AccountManager } from "../accounts/manager.js";
import { Authenticator } from "../auth/authenticator.js";
import { withAuthCallout } from "../auth/callout-host.js";
import type { AuthRefusal, AuthResult, ClientAuthenticator } from "../auth/types.js";
import { Cluster } from "../cluster/cluster.js";
import { Gateways } from "../cluster/gateways.js";
import { LeafNodes } from "../cluster/leafnodes.js";
import type { RouteConnection } from "../cluster/route.js";
import type { RouteInfo } from "../cluster/route-info.js";
import { API_LEVEL } from "../jetstream/api-level.js";
import { Logger } from "../logger.js";
import type { JetStreamMonitorSource } from "../monitor/jsz.js";
import { ERR_MAXIMUM_CONNECTIONS_EXCEEDED } from "../protocol/errors.js";
import { TlsAcceptor, TlsTransport } from "../tls/index.js";
import { NATS_FEATURE_LEVEL, PROTOCOL_VERSION } from "../version.js";
import { webSocketAuthenticator } from "../websocket/auth.js";
import { Account, GLOBAL_ACCOUNT } from "./account.js";
import { ClientConnection, type ClientContext } from "./client.js";
import { CloseReason } from "./close-reason.js";
import { ClosedConnections } from "./closed-connections.js";
import type { Connection } from "./connection.js";
import { InternalClient } from "./internal-client.js";
import { MsgTracer } from "./msg-trace.js";
import type { ServerOptions } from "./options.js";
import { FlushQueue } from "./outbound.js";
import { type Ports, removeFile, writePortsFile } from "./ports-file.js";
import { Router } from "./router.js";
import { ServerIdentity } from "./server-id.js";
import { ServerStats } from "./stats.js";
import { TcpTransport, type Transport } from "./transport.js";

/** How long shutdown waits for connections to finish closing before it destroys what is left. */
const SHUTDOWN_GRACE_MS = 3000;

/** The JetStream engine as the server sees it: started before listeners, stopped after clients. */
export interface JetStreamEngine {
  shutdown(): Promise<void>;
}

/** A listener other than the client port (monitoring, websocket...) started and stopped with the server. */
export interface Listener {
  readonly name: keyof Ports;
  start(server: Server): Promise<string[]>;
  stop(): Promise<void>;
  /** A configuration reload: read certificate files again (new handshakes use them). May throw. */
  reloadTls?(next: ServerOptions): void;
}

/**
 * The server: owns listeners, accounts and connections, and wires them to the router. Subsystems hang off
 * it through small interfaces (ClientContext, Listener) rather than reaching into it.
 */
export class Server extends EventEmitter implements ClientContext {
  readonly id: string;
  private readonly identity = new ServerIdentity();
  readonly name: string;
  readonly logger: Logger;
  readonly stats = new ServerStats();
  readonly router = new Router();
  readonly tracer: MsgTracer;
  /** Internal clients that publish message traces, one per account that had a traced message. */
  private readonly traceClients = new Map<Account, InternalClient>();
  readonly flushQueue = new FlushQueue();
  authenticator: ClientAuthenticator | undefined;
  readonly accounts = new Map<string, Account>();
  readonly globalAccount: Account;
  /** Accounts beyond `$G`: config-file accounts, JWT accounts, imports/exports, the system account. */
  readonly accountManager: AccountManager;
  readonly clients = new Map<number, ClientConnection>();
  readonly closed: ClosedConnections<ClientConnection>;
  readonly startTime = new Date();
  readonly extraListeners: Listener[] = [];
  /** Client TLS (`tls { }`); undefined = plain TCP. */
  readonly tlsAcceptor: TlsAcceptor | undefined;
  port = 0;
  /** Set once a JetStream engine is attached; until then INFO does not advertise JetStream. */
  jetStreamEnabled = false;
  jetstream: JetStreamEngine | undefined;
  /** What /jsz and /healthz read, set by the JetStream engine. */
  jetstreamMonitor: JetStreamMonitorSource | undefined;
  lameDuck = false;
  /** Routes to the other servers of this cluster (`cluster { }`). */
  readonly cluster: Cluster | undefined;
  /** Leaf-node links: spokes of this hub, and the hubs this server is a spoke of (`leafnodes { }`). */
  readonly leafnodes: LeafNodes | undefined;
  /** Links to the other clusters of a supercluster (`gateway { }`); the gateway name is the cluster's. */
  readonly gateways: Gateways | undefined;
  shuttingDown = false;
  private nextCid = 1;
  private tcp: net.Server | undefined;
  private ports: Ports = {};
  private portsFile: string | undefined;
  private infoBase = "";
  private readonly closedWaiters: Array<() => void> = [];
  /** Every socket the client listener accepted and that is not closed yet (for a bounded shutdown). */
  private readonly sockets = new Set<net.Socket>();
  private wsAuth:
    | { base: ClientAuthenticator | undefined; auth: ClientAuthenticator | undefined }
    | undefined;

  constructor(readonly options: ServerOptions) {
    super();
    this.id = this.identity.id;
    this.name = options.serverName ?? this.id;
    this.logger = new Logger({
      debug: options.debug,
      trace: options.trace,
      logtime: options.logtime,
      logFile: options.logFile,
      quiet: options.quiet,
    });
    this.authenticator = createAuthenticator(options);
    // Loads the certificate files: a bad path or a key that does not match refuses to start.
    this.tlsAcceptor = options.tls ? new TlsAcceptor(options.tls, options.allowNonTls) : undefined;
    this.globalAccount = new Account(GLOBAL_ACCOUNT);
    this.accounts.set(GLOBAL_ACCOUNT, this.globalAccount);
    this.closed = new ClosedConnections(options.maxClosedClients);
    // Config-file accounts, or operator mode where users authenticate with JWTs.
    this.accountManager = new AccountManager(this);
    const server = this;
    this.tracer = new MsgTracer(this.router, {
      get name() {
        return server.name;
      },
      get id() {
        return server.id;
      },
      get host() {
        return server.options.host;
      },
      version: NATS_FEATURE_LEVEL,
      get jetstream() {
        return server.jetStreamEnabled;
      },
      clientFor: (account) => {
        let c = this.traceClients.get(account);
        if (c === undefined) {
          c = this.createInternalClient("msg-trace", account);
          this.traceClients.set(account, c);
        }
        return c;
      },
    });
    this.authenticator = withAuthCallout(this, this.accountManager.jwtAuthenticator ?? this.authenticator);
    // As nats-server: a cluster block without a route port (0) does not cluster.
    this.cluster =
      options.cluster === undefined || options.cluster.port === 0
        ? undefined
        : new Cluster(this, options.cluster);
    this.leafnodes = options.leafnodes === undefined ? undefined : new LeafNodes(this, options.leafnodes);
    const gw = options.gateway;
    this.gateways = gw === undefined || gw.name === "" ? undefined : new Gateways(this, gw);
  }

  nextConnectionId(): number {
    return this.nextCid++;
  }

  /** Accounts created after start (operator mode, claim updates) join the cluster's interest tracking. */
  accountAdded(account: Account): void {
    this.cluster?.watch(account);
    this.leafnodes?.watch(account);
    this.gateways?.watch(account);
  }

  /** The cluster's name, when this server is in one. */
  get clusterName(): string | undefined {
    return this.cluster?.clusterName ?? this.gateways?.name;
  }

  /** This server's gateway URL, for the route INFO (cluster.ts). */
  gatewayUrl(): string | undefined {
    return this.gateways?.routeGatewayUrl();
  }

  /** A route came or went: its server's gateway URL joins or leaves what remote clusters are told. */
  gatewayRouteChanged(route: RouteConnection, up: boolean): void {
    this.gateways?.routeChanged(route, up);
  }

  /** A route peer told us of a remote cluster it is connected to: connect to it too. */
  gatewayGossip(info: RouteInfo): void {
    if (this.gateways === undefined) {
      this.logger.error(
        `Received information about gateway "${info.gateway}" from a route, but gateway is not configured`,
      );
      return;
    }
    this.gateways.gossipFromRoute(info);
  }

  get systemAccountName(): string | undefined {
    return this.accountManager.systemAccountName;
  }

  /** An account a peer server names; operator mode loads it from the resolver. */
  lookupAccount(name: string): Account | undefined {
    const existing = this.accounts.get(name);
    if (existing !== undefined) return existing;
    if (this.accountManager.resolver === undefined) return undefined;
    this.accountManager.resolveAccount(name);
    return this.accounts.get(name);
  }

  /** This server's client URLs as other servers advertise them (`host:port`). */
  clientConnectUrls(): string[] {
    const o = this.options;
    if (o.clientAdvertise) return [o.clientAdvertise.replace(/^nats:\/\//, "")];
    const h = o.host;
    if (h !== "0.0.0.0" && h !== "::" && h !== "") return [hostPort(h, this.port)];
    // A wildcard listen is reachable at every address of the machine (loopback only when there is no other).
    const out: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? [])
        if (!a.internal && a.family === "IPv4") out.push(hostPort(a.address, this.port));
    }
    return out.length > 0 ? out : [hostPort("127.0.0.1", this.port)];
  }

  /** The cluster's client URLs changed: new clients get them in INFO, connected clients an async INFO. */
  connectUrlsChanged(): void {
    this.buildInfo();
    for (const c of this.clients.values()) {
      if ((c.connect?.protocol ?? 0) >= 1 && !c.closed) c.sendProto(`INFO ${this.infoJson(c)}\r\n`);
    }
  }

  /** The server's identity key pair (signs auth callout requests); `id` is its public key. Made on first use. */
  get serverKey(): KeyPair {
    return this.identity.keyPair;
  }

  /** The startup banner, logged before any subsystem starts. */
  logBanner(): void {
    this.logger.info("Starting lattice-server");
    this.logger.info(`  Version:  ${NATS_FEATURE_LEVEL} (nats-server feature level)`);
    this.logger.info(`  ID:       ${this.id}`);
    this.logger.info(`  Name:     ${this.name}`);
  }

  /** Start listening; resolves once every listener accepts connections. */
  async start(): Promise<void> {
    const o = this.options;
    this.tcp = net.createServer((socket) => this.acceptSocket(socket));
    this.tcp.maxConnections = Number.MAX_SAFE_INTEGER;
    await listenDualStack(this.tcp, o.host, Math.max(o.port, 0));
    const addr = this.tcp.address() as net.AddressInfo;
    this.port = addr.port;
    this.buildInfo();
    this.ports.nats = [`nats://${displayHost(o.host)}:${this.port}`];
    const started: Listener[] = [];
    try {
      for (const l of this.extraListeners) {
        this.ports[l.name] = await l.start(this);
        started.push(l);
      }
    } catch (err) {
      // Leave nothing listening behind a failed start.
      for (const l of started) await l.stop();
      await this.closeClientListener();
      throw err;
    }
    this.logger.info(`Listening for client connections on ${hostPort(o.host, this.port)}`);
    if (this.cluster !== undefined || this.leafnodes !== undefined || this.gateways !== undefined) {
      try {
        // The gateway URL goes into the route INFO: listen for gateways first, dial them once routes are up.
        await this.gateways?.listen();
        if (this.cluster !== undefined) this.ports.cluster = [await this.cluster.start()];
        const leafUrl = await this.leafnodes?.start();
        if (leafUrl !== undefined) this.ports.leafnode = [leafUrl];
      } catch (err) {
        await this.gateways?.stop();
        await this.cluster?.stop();
        await this.leafnodes?.stop();
        await this.leafnodes?.stop();
        for (const l of started) await l.stop();
        await this.closeClientListener();
        throw err;
      }
      this.buildInfo();
      this.gateways?.connect();
    }
    if (o.tls) this.logger.info("TLS required for client connections");
    this.accountManager.start();
    this.logger.info("Server is ready");
    if (o.portsFileDir) this.portsFile = writePortsFile(o.portsFileDir, this.ports);
    if (o.pidFile) writeFileSync(o.pidFile, String(process.pid));
    this.emit("ready");
  }

  get clientUrl(): string {
    return this.ports.nats?.[0] ?? "";
  }

  listenerUrls(): Ports {
    return this.ports;
  }

  /** Rebuild the INFO every new client gets (after a reload changed what it says). */
  rebuildInfo(): void {
    this.buildInfo();
  }

  private buildInfo(): void {
    const o = this.options;
    const info: Record<string, unknown> = {
      server_id: this.id,
      server_name: this.name,
      version: NATS_FEATURE_LEVEL,
      proto: PROTOCOL_VERSION,
      host: o.host,
      port: this.port,
      headers: !o.noHeaderSupport,
      max_payload: o.maxPayload,
      api_lvl: API_LEVEL,
    };
    if (this.authenticator?.advertiseRequired) info.auth_required = true;
    if (o.tls) {
      // allow_non_tls turns "required" into "available", except where every connection starts with TLS.
      const tlsFirstOnly = o.tls.handshakeFirst && o.tls.handshakeFirstFallbackMs === 0;
      if (!o.allowNonTls || tlsFirstOnly) info.tls_required = true;
      if (o.tls.verify) info.tls_verify = true;
      if (o.allowNonTls) info.tls_available = true;
    }
    const cluster = this.cluster;
    if (cluster !== undefined) {
      info.cluster = cluster.clusterName;
      if (!cluster.config.noAdvertise) {
        const urls = new Set(this.lameDuck ? [] : this.clientConnectUrls());
        for (const u of cluster.peerConnectUrls()) urls.add(u);
        if (urls.size > 0) info.connect_urls = [...urls];
      }
    }
    if (this.jetStreamEnabled) {
      info.jetstream = true;
      if (o.jetstream?.domain) info.domain = o.jetstream.domain;
    }
    // The per-client fields are appended by infoJson.
    this.infoBase = JSON.stringify(info).slice(0, -1);
  }

  infoJson(client: ClientConnection, extra?: Record<string, unknown>): string {
    if (client.transport.kind === "websocket" && !this.authenticator?.advertiseRequired) {
      if (this.authenticatorFor(client.transport)?.advertiseRequired)
        extra = { auth_required: true, ...extra };
    }
    let s = `${this.infoBase},"client_id":${client.cid},"client_ip":${JSON.stringify(client.transport.remoteAddress)}`;
    if (client.nonce !== undefined) s += `,"nonce":${JSON.stringify(client.nonce)}`;
    if (extra) for (const [k, v] of Object.entries(extra)) s += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    return `${s}}`;
  }

  /** Who checks a connection's credentials: websocket clients may have their own rules (`websocket { }`). */
  authenticatorFor(transport: Transport): ClientAuthenticator | undefined {
    if (transport.kind !== "websocket" || this.options.websocket === undefined) return this.authenticator;
    if (this.wsAuth?.base !== this.authenticator || this.wsAuth === undefined) {
      this.wsAuth = {
        base: this.authenticator,
        auth: webSocketAuthenticator(this.options, this.authenticator),
      };
    }
    return this.wsAuth.auth;
  }

  /** A new in-process participant in an account (the global one by default). */
  createInternalClient(
    name: string,
    account: Account = this.globalAccount,
    kind: "system" | "jetstream" = "system",
  ): InternalClient {
    return new InternalClient(this.nextCid++, name, account, this.router, kind);
  }

  /** Attach JetStream (before start): INFO then advertises it. */
  attachJetStream(engine: JetStreamEngine, monitor?: JetStreamMonitorSource): void {
    this.jetstream = engine;
    this.jetstreamMonitor = monitor;
    this.jetStreamEnabled = true;
  }

  admitClient(client: ClientConnection, result: AuthResult | undefined): AuthRefusal | undefined {
    return this.accountManager.admit(client, result);
  }

  accountFor(name: string | undefined): Account | undefined {
    return this.accounts.get(name ?? GLOBAL_ACCOUNT);
  }

  /** A client-port socket: plain TCP, or upgraded to TLS as `tls { }` says. */
  private acceptSocket(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    if (this.tlsAcceptor === undefined) {
      this.accept(new TcpTransport(socket));
      return;
    }
    const transport = new TlsTransport(socket, this.tlsAcceptor);
    const client = this.accept(transport);
    if (client !== undefined) transport.attach(client, this.logger);
  }

  /** Accept a connection from any listener (TCP now, WebSocket through its own listener). */
  accept(transport: Transport): ClientConnection | undefined {
    if (this.shuttingDown || this.lameDuck) {
      transport.destroy();
      return undefined;
    }
    const cid = this.nextCid++;
    this.stats.totalConnections++;
    const client = new ClientConnection(cid, transport, this);
    this.clients.set(cid, client);
    if (this.clients.size > this.options.maxConnections) {
      client.close(CloseReason.MaxConnectionsExceeded, ERR_MAXIMUM_CONNECTIONS_EXCEEDED);
      return undefined;
    }
    this.logger.debug(`${client.describe()} - Client connection created`);
    return client;
  }

  connectionClosed(conn: Connection): void {
    if (!(conn instanceof ClientConnection)) return;
    if (!this.clients.delete(conn.cid)) return;
    this.accountManager.clientClosed(conn);
    this.closed.add(conn);
    this.logger.debug(`${conn.describe()} - Client connection closed: ${conn.closeReason}`);
    if (this.clients.size === 0) for (const w of this.closedWaiters.splice(0)) w();
  }

  /** Numbers of subscriptions across accounts. */
  get subscriptionCount(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.sublist.count;
    return n;
  }

  /**
   * Lame-duck mode: stop accepting, tell clients (async INFO with ldm), wait the grace period, then close
   * the remaining clients spread over the rest of lame_duck_duration, and shut down.
   */
  async enterLameDuckMode(): Promise<void> {
    if (this.lameDuck || this.shuttingDown) return;
    this.lameDuck = true;
    this.logger.info("Entering lame duck mode, stop accepting new clients");
    // The close callback waits for every open connection, which lame-duck mode closes later.
    const listenerClosed = this.closeClientListener();
    this.cluster?.enterLameDuckMode();
    for (const c of this.clients.values()) {
      if ((c.connect?.protocol ?? 0) >= 1) c.sendProto(`INFO ${this.infoJson(c, { ldm: true })}\r\n`);
    }
    const o = this.options;
    const grace = Math.min(o.lameDuckGracePeriodMs, o.lameDuckDurationMs);
    await sleep(grace);
    const remaining = [...this.clients.values()];
    if (remaining.length > 0) {
      const spread = Math.max(0, o.lameDuckDurationMs - grace);
      const gap = Math.min(1000, spread / remaining.length);
      for (const c of remaining) {
        if (this.shuttingDown) break;
        c.close(CloseReason.LameDuckMode);
        if (gap > 0) await sleep(gap);
      }
    }
    await this.shutdown();
    await listenerClosed;
  }

  /**
   * Stop the client listener. Its close completes only when every socket it accepted is gone; connections
   * are ended gracefully first, and any socket still open after the grace period (a peer that never
   * finishes closing) is destroyed, so shutdown always completes.
   */
  private async closeClientListener(): Promise<void> {
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp === undefined) return;
    const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        resolve();
      }, SHUTDOWN_GRACE_MS);
    });
    await Promise.race([closed, late]);
    clearTimeout(timer);
    await closed;
  }

  /** Stop accepting, flush and close every connection, stop every listener. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.logger.info("Initiating Shutdown...");
    const listenerClosed = this.closeClientListener();
    for (const c of [...this.clients.values()]) c.close(CloseReason.ServerShutdown);
    await listenerClosed;
    await this.gateways?.stop();
    await this.cluster?.stop();
    await this.leafnodes?.stop();
    for (const l of this.extraListeners) await l.stop();
    if (this.jetstream) await this.jetstream.shutdown();
    this.accountManager.stop();
    removeFile(this.portsFile);
    if (this.options.pidFile) removeFile(this.options.pidFile);
    this.logger.info("Server Exiting..");
    this.emit("shutdown");
  }
}

/** An authenticator when the options ask for any kind of authentication. */
export function createAuthenticator(options: ServerOptions): Authenticator | undefined {
  const auth = options.authorization;
  if (!auth || !(auth.users?.length || auth.token || auth.user)) return undefined;
  // With TLS the default auth timeout is the TLS timeout plus one second, as in nats-server.
  const timeoutMs = auth.timeoutMs ?? (options.tls ? options.tls.timeoutMs + 1000 : undefined);
  return new Authenticator({ ...auth, noAuthUser: options.noAuthUser ?? auth.noAuthUser, timeoutMs });
}

function listen(srv: net.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen({ host, port }, () => {
      srv.off("error", reject);
      resolve();
    });
  });
}

/**
 * nats-server's wildcard listen (0.0.0.0) also accepts IPv6 peers, and clients resolving `localhost` to ::1
 * rely on it: listen on the dual-stack `::` where the machine has IPv6.
 */
export async function listenDualStack(srv: net.Server, host: string, port: number): Promise<void> {
  if (host === "0.0.0.0") {
    try {
      await listen(srv, "::", port);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL") throw err;
    }
  }
  await listen(srv, host, port);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
