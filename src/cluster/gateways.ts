import type net from "node:net";
import { networkInterfaces } from "node:os";
import type tls from "node:tls";
import type { Token } from "../protocol/encode.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import type { Message } from "../server/message.js";
import type { Subscription } from "../server/subscription.js";
import { TcpTransport, type Transport } from "../server/transport.js";
import { secureContextOptions, TlsAcceptor, type TlsOptions } from "../tls/index.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import type { Cluster } from "./cluster.js";
import { dialSocket, Redialer } from "./dialer.js";
import { GatewayConnection, type GatewayHost } from "./gateway.js";
import {
  GatewayCmd,
  type GatewayConnectInfo,
  type GatewayInfo,
  gatewayHash,
  parseGatewayUrl,
} from "./gateway-info.js";
import { GatewayInterest } from "./gateway-interest.js";
import { GatewayReplies } from "./gateway-replies.js";
import { hostPort, LinkListener } from "./link-listener.js";
import { LinkManager, type LinkServerHost } from "./link-manager.js";
import type { GatewayOptions } from "./options.js";
import type { RouteConnection } from "./route.js";

/** The server as its gateways see it. */
export interface GatewayServerHost extends LinkServerHost {
  /** The routes of this cluster (replies are passed to the server that asked; gateways are gossiped). */
  readonly cluster: Cluster | undefined;
}

const DEFAULT_GATEWAY_PORT = 7222;
/** How long an accepted gateway may take to send its CONNECT. */
const GATEWAY_AUTH_TIMEOUT_MS = 2000;
/** Pause after every URL of a remote gateway failed once (nats-server's gatewayConnectDelay). */
const ROUND_DELAY_MS = 1000;
/** Pause before dialling a configured gateway again after its connection was lost (gatewayReconnectDelay). */
const RECONNECT_DELAY_MS = 1000;

/** One remote gateway (cluster): configured, or learned from gossip ("implicit"). */
interface RemoteCluster {
  readonly name: string;
  /** Its 6-character hash, the cluster part of the `_GR_.` replies it maps. */
  readonly hash: string;
  readonly implicit: boolean;
  /** URLs from the configuration (kept when the remote's own list changes). */
  readonly configuredUrls: Set<string>;
  /** Every URL to dial, by `host:port`. */
  readonly urls: Map<string, { host: string; port: number; user?: string; pass?: string }>;
  readonly tls: tls.ConnectionOptions | undefined;
  /** Index (over `urls`) of the next URL to dial. */
  next: number;
  /** The URL being dialled. */
  current: string | undefined;
  /** Rounds over every URL that all failed in a row (implicit remotes give up after connect_retries). */
  failedRounds: number;
  dialer: Redialer<net.Socket> | undefined;
  /** The registered outbound connection. */
  connection: GatewayConnection | undefined;
}

/**
 * Gateways: this server's links to the other clusters of a supercluster. Listens for inbound connections,
 * keeps one outbound connection to every remote cluster (configured, gossiped by remote gateways, or by
 * the servers of this cluster), tells every inbound connection this cluster's interest in interest-only
 * mode (INFO gateway_cmd 2, RS+..., gateway_cmd 3, then RS+/RS- as interest comes and goes), and routes
 * `_GR_.` replies back to the cluster and server that asked (see GatewayReplies).
 */
export class Gateways extends LinkManager<GatewayServerHost> implements GatewayHost {
  readonly gatewayName: string;
  /** Every gateway connection, registered or in its handshake. */
  readonly connections = new Set<GatewayConnection>();
  /** Registered inbound connections. */
  readonly inbound = new Set<GatewayConnection>();
  readonly remotes = new Map<string, RemoteCluster>();
  /** `_GR_.` reply mapping and routing. */
  private readonly replies: GatewayReplies;
  /** This cluster's interest, as told to inbound connections. */
  private readonly interest: GatewayInterest;
  private readonly watched = new Map<Account, { off: () => void; replySub: Subscription }>();
  /** Gateway URLs of this cluster's servers (this one and route peers), reference counted. */
  private readonly clusterUrls = new Map<string, number>();
  private readonly listener: LinkListener;
  private infoText = "{}";
  private stopped = false;
  /** Listen port (after start). */
  port = 0;
  /** Host and port advertised to other clusters. */
  advertisedHost = "";
  advertisedPort = 0;
  /** This server's gateway URL (`host:port`), as told to remote clusters and route peers. */
  url = "";

  constructor(
    host: GatewayServerHost,
    readonly config: GatewayOptions,
  ) {
    super(host);
    this.gatewayName = config.name;
    this.replies = new GatewayReplies(host, config.name, this.remotes);
    this.interest = new GatewayInterest(config.name, this.inbound, this.replies.owner);
    const tls =
      config.tls === undefined
        ? undefined
        : new TlsAcceptor({ ...config.tls, handshakeFirst: true, handshakeFirstFallbackMs: 0 }, false);
    this.listener = new LinkListener(this.logger, (t) => this.acceptTransport(t), tls);
    for (const g of config.gateways) {
      // A remote with our own name is this cluster (nats-server ignores it too).
      if (g.name === config.name || this.remotes.has(g.name)) continue;
      const r = this.newRemote(g.name, false, g.tls ?? config.tls);
      for (const u of g.urls) this.addUrl(r, u, true);
      this.remotes.set(g.name, r);
    }
  }

  /** This cluster's hash and this server's (the `_GR_.` prefix of replies we map). */
  get clusterHash(): string {
    return this.replies.clusterHash;
  }

  get serverHash(): string {
    return this.replies.serverHash;
  }

  get name(): string {
    return this.config.name;
  }

  /** Listen for inbound gateways and follow every account's interest. Dial nothing yet (see `connect`). */
  async listen(): Promise<void> {
    for (const account of this.host.accounts.values()) this.watch(account);
    const c = this.config;
    this.port = await this.listener.listen(c.host, c.port === 0 ? DEFAULT_GATEWAY_PORT : c.port);
    this.setAdvertised();
    this.clusterUrls.set(this.url, (this.clusterUrls.get(this.url) ?? 0) + 1);
    this.buildInfo();
    this.logger.info(`Gateway name is ${this.name}`);
    this.logger.info(`Listening for gateways connections on ${hostPort(c.host, this.port)}`);
    this.logger.info(`Address for gateway "${this.name}" is ${this.url}`);
  }

  /** Dial the configured remote gateways (once this cluster's routes had a chance to form). */
  connect(): void {
    for (const r of this.remotes.values()) if (!r.implicit) this.startDialing(r, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.remotes.values()) r.dialer?.stop();
    for (const [account, w] of this.watched) {
      w.off();
      w.replySub.closed = true;
      account.removeSubscription(w.replySub);
    }
    this.watched.clear();
    this.replies.stop();
    for (const gw of [...this.connections]) gw.close(CloseReason.ServerShutdown);
    await this.listener.stop();
  }

  /** Follow an account's interest (accounts created after start are watched when they appear). */
  watch(account: Account): void {
    if (this.watched.has(account) || this.stopped) return;
    // Peers hear about what exists now in one go, below.
    for (const sub of account.sublist.subscriptions()) this.subscriptionChanged(account, sub, 1, false);
    const off = account.onInterest((acc, change) =>
      this.subscriptionChanged(acc, change.sub, change.kind === "add" ? 1 : -1, true),
    );
    const replySub = this.replies.subscribe(account);
    this.watched.set(account, { off, replySub });
    // Inbound peers learn about the new account: until then they send nothing for it.
    for (const gw of this.inbound) this.interest.sendAccount(gw, account);
    for (const r of this.remotes.values()) r.connection?.startOptimistic(account);
  }

  /** `live`: a change as it happens (peers are told, the subscription is recent); else seeding a table. */
  private subscriptionChanged(account: Account, sub: Subscription, sign: 1 | -1, live: boolean): void {
    if (!this.interest.counts(sub)) return;
    if (live) this.replies.trackRecent(account, sub, sign);
    this.interest.changed(account, sub, sign, live);
  }

  // Replies (GatewayHost)

  mapReply(account: Account, reply: Token): Token {
    return this.replies.mapReply(account, reply);
  }

  inboundMessage(_gw: GatewayConnection, account: Account, m: Message): void {
    this.replies.inboundMessage(account, m);
  }

  // Handshakes

  infoJson(): string {
    return this.infoText;
  }

  private buildInfo(): void {
    const c = this.config;
    const info: GatewayInfo & Record<string, unknown> = {
      server_id: this.host.id,
      server_name: this.host.name,
      version: NATS_FEATURE_LEVEL,
      go: "lattice",
      host: this.advertisedHost,
      port: this.advertisedPort,
      proto: 2,
      headers: true,
      max_payload: this.options.maxPayload,
      gateway: this.name,
      gateway_url: this.url,
      gateway_urls: [...this.clusterUrls.keys()],
      gateway_nrp: true,
      gateway_iom: true,
    };
    if (c.authorization?.user !== undefined) info.auth_required = true;
    if (c.tls !== undefined) {
      info.tls_required = true;
      info.tls_verify = true;
    }
    this.infoText = JSON.stringify(info);
  }

  /** The INFO changed (gateway URLs of this cluster): inbound peers get it again. */
  private infoChanged(): void {
    this.buildInfo();
    const line = `INFO ${this.infoText}\r\n`;
    for (const gw of this.inbound) gw.sendProto(line);
  }

  connectJson(gw: GatewayConnection): string {
    const auth = this.config.authorization;
    const creds = gw.outboundUrl;
    const r = this.remotes.get(gw.remoteName);
    const c: GatewayConnectInfo & Record<string, unknown> = {
      verbose: false,
      pedantic: false,
      tls_required: r?.tls !== undefined,
      name: this.host.id,
      gateway: this.name,
    };
    // nats-server: credentials of the URL, else this gateway's own (superclusters share them).
    const user = creds?.user ?? auth?.user;
    const pass = creds?.user !== undefined ? creds.pass : auth?.password;
    if (user !== undefined) {
      c.user = user;
      if (pass !== undefined) c.pass = pass;
    }
    return JSON.stringify(c);
  }

  acceptConnect(gw: GatewayConnection, c: GatewayConnectInfo): boolean {
    const auth = this.config.authorization;
    if (
      auth?.user !== undefined &&
      (c.user !== auth.user || (auth.password !== undefined && c.pass !== auth.password))
    ) {
      this.logger.error(`${gw.describe()} - gateway authentication failed for user "${c.user ?? ""}"`);
      gw.close(CloseReason.AuthenticationViolation, "Authorization Violation");
      return false;
    }
    if (typeof c.gateway !== "string" || c.gateway === "") {
      this.logger.error(`${gw.describe()} - attempted to connect to gateway port`);
      gw.close(CloseReason.WrongPort, "attempted to connect to gateway port");
      return false;
    }
    if (this.config.rejectUnknownCluster && !this.remotes.has(c.gateway)) {
      this.logger.error(`${gw.describe()} - Rejecting connection from gateway "${c.gateway}"`);
      gw.close(CloseReason.WrongGateway, `Connection to gateway "${this.name}" rejected`);
      return false;
    }
    return true;
  }

  /**
   * A gateway peer named like a server of this cluster is refused (nats-server: "Remote server has a
   * duplicate name"), since events and monitoring address servers by name across the supercluster.
   */
  private duplicateName(gw: GatewayConnection, info: GatewayInfo): boolean {
    const name = info.server_name;
    if (name === undefined || name === "") return false;
    if (name !== this.host.name && !this.host.cluster?.hasServerNamed(name)) return false;
    this.logger.error(`${gw.describe()} - Remote server has a duplicate name: "${name}"`);
    gw.close(CloseReason.DuplicateServerName);
    return true;
  }

  outboundReady(gw: GatewayConnection, info: GatewayInfo): boolean {
    if (this.duplicateName(gw, info)) return false;
    const r = this.remotes.get(gw.remoteName);
    if (r === undefined || this.stopped) {
      gw.noReconnect = true;
      gw.close(CloseReason.GatewayRemoved);
      return false;
    }
    if (r.connection !== undefined && r.connection !== gw && !r.connection.closed) {
      gw.noReconnect = true;
      gw.close(CloseReason.WrongGateway);
      return false;
    }
    r.connection = gw;
    r.failedRounds = 0;
    // The remote's own list replaces what it told before (configured URLs stay).
    for (const key of [...r.urls.keys()])
      if (!r.configuredUrls.has(key) && key !== r.current) r.urls.delete(key);
    for (const u of info.gateway_urls ?? []) this.addUrl(r, u, false);
    this.logger.info(
      `${gw.describe()} - Outbound gateway connection to "${r.name}" (${info.server_id ?? ""}) registered`,
    );
    this.tellCluster(r);
    for (const account of this.watched.keys()) gw.startOptimistic(account);
    return true;
  }

  inboundReady(gw: GatewayConnection, info: GatewayInfo): boolean {
    if (this.stopped) {
      gw.close(CloseReason.ServerShutdown);
      return false;
    }
    if (this.duplicateName(gw, info)) return false;
    this.inbound.add(gw);
    this.logger.info(
      `${gw.describe()} - Inbound gateway connection from "${gw.remoteName}" (${info.server_id ?? ""}) registered`,
    );
    for (const account of this.watched.keys()) this.interest.sendAccount(gw, account);
    // Messages for that cluster need an outbound connection to it.
    this.implicitGateway(gw.remoteName, info.gateway_urls);
    // And the peer learns of every other cluster we know, so the supercluster is a full mesh.
    for (const r of this.remotes.values()) {
      if (r.name === gw.remoteName || r.urls.size === 0) continue;
      gw.sendProto(`INFO ${this.gossipJson(r, this.host.id)}\r\n`);
    }
    return true;
  }

  outboundInfo(gw: GatewayConnection, info: GatewayInfo): void {
    const other = info.gateway;
    if (typeof other === "string" && other !== "" && other !== gw.remoteName) {
      if (info.gateway_cmd !== GatewayCmd.Gossip) return;
      if (this.config.rejectUnknownCluster && !this.remotes.has(other)) return;
      this.implicitGateway(other, info.gateway_urls);
      return;
    }
    if (info.gateway_cmd !== undefined && info.gateway_cmd !== 0) return;
    const r = this.remotes.get(gw.remoteName);
    if (r === undefined) return;
    for (const u of info.gateway_urls ?? []) this.addUrl(r, u, false);
    this.tellCluster(r);
  }

  connectionClosed(conn: unknown): void {
    const gw = conn as GatewayConnection;
    if (!this.connections.delete(gw)) return;
    const what = gw.outbound ? "Outbound" : "Inbound";
    if (gw.registered)
      this.logger.info(`${gw.describe()} - ${what} gateway connection closed: ${gw.closeReason}`);
    else this.logger.debug(`${gw.describe()} - ${what} gateway connection closed: ${gw.closeReason}`);
    if (!gw.outbound) {
      this.inbound.delete(gw);
      return;
    }
    const r = this.remotes.get(gw.remoteName);
    if (r === undefined) return;
    if (r.connection === gw) r.connection = undefined;
    if (this.stopped || gw.noReconnect) return;
    if (!gw.registered) {
      // Refused during the handshake (wrong port or name...): like a failed dial.
      this.dialFailed(r);
      return;
    }
    r.next++;
    const jitter = Math.floor(Math.random() * 100);
    this.startDialing(r, r.implicit ? jitter : RECONNECT_DELAY_MS + jitter);
  }

  // Remote clusters

  private newRemote(name: string, implicit: boolean, tlsOptions: TlsOptions | undefined): RemoteCluster {
    let dialTls: tls.ConnectionOptions | undefined;
    if (tlsOptions !== undefined) {
      dialTls = { ...secureContextOptions(tlsOptions), rejectUnauthorized: tlsOptions.caFile !== undefined };
    }
    return {
      name,
      hash: gatewayHash(name),
      implicit,
      configuredUrls: new Set(),
      urls: new Map(),
      tls: dialTls,
      next: 0,
      current: undefined,
      failedRounds: 0,
      dialer: undefined,
      connection: undefined,
    };
  }

  private addUrl(r: RemoteCluster, text: string, configured: boolean): void {
    const u = parseGatewayUrl(text);
    if (u === undefined) {
      this.logger.error(`Gateway "${r.name}": invalid URL "${text}"`);
      return;
    }
    const existing = r.urls.get(u.key);
    if (existing === undefined || configured)
      r.urls.set(u.key, { host: u.host, port: u.port, user: u.user, pass: u.pass });
    if (configured) r.configuredUrls.add(u.key);
  }

  /** A cluster learned from an inbound connection or gossip: dial it unless we already know it. */
  private implicitGateway(name: string | undefined, urls: string[] | undefined): void {
    if (this.stopped || name === undefined || name === "" || name === this.name) return;
    const known = this.remotes.get(name);
    if (known !== undefined) {
      for (const u of urls ?? []) this.addUrl(known, u, false);
      return;
    }
    const r = this.newRemote(name, true, this.config.tls);
    for (const u of urls ?? []) this.addUrl(r, u, false);
    if (r.urls.size === 0) return;
    this.remotes.set(name, r);
    this.logger.debug(`Gateway "${name}" learned, connecting to it`);
    this.startDialing(r, 0);
  }

  private startDialing(r: RemoteCluster, delayMs: number): void {
    if (this.stopped || this.remotes.get(r.name) !== r) return;
    const keys = [...r.urls.keys()];
    if (keys.length === 0) return;
    const key = keys[r.next % keys.length]!;
    r.current = key;
    const u = r.urls.get(key)!;
    const target = { host: u.host, port: u.port, tls: r.tls };
    if (r.dialer === undefined) {
      r.dialer = new Redialer(
        target,
        {
          dial: dialSocket,
          retries: 1,
          minDelayMs: 250,
          maxDelayMs: 2000,
          timeoutMs: 2000,
          logger: this.logger,
          what: `gateway "${r.name}"`,
        },
        (socket) => this.dialed(r, socket),
        () => this.dialFailed(r),
      );
    } else {
      r.dialer.retarget(target);
    }
    r.dialer.connected = false;
    r.dialer.start(delayMs);
  }

  /** One URL failed: the next one at once, or after a pause once they all failed. */
  private dialFailed(r: RemoteCluster): void {
    if (this.stopped || this.remotes.get(r.name) !== r) return;
    r.next++;
    const n = r.urls.size;
    const roundDone = n === 0 || r.next % n === 0;
    if (roundDone) {
      r.failedRounds++;
      const retries = this.config.connectRetries;
      if (r.implicit && (retries === 0 || r.failedRounds > retries) && !this.hasInbound(r.name)) {
        this.logger.debug(`Gateway "${r.name}": giving up after ${r.failedRounds} attempt(s)`);
        r.dialer?.stop();
        this.remotes.delete(r.name);
        return;
      }
    }
    this.startDialing(r, roundDone ? ROUND_DELAY_MS + Math.floor(Math.random() * 100) : 0);
  }

  private hasInbound(name: string): boolean {
    for (const gw of this.inbound) if (gw.remoteName === name) return true;
    return false;
  }

  private dialed(r: RemoteCluster, socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const u = r.current === undefined ? undefined : r.urls.get(r.current);
    const gw = new GatewayConnection(
      this.host.nextConnectionId(),
      new TcpTransport(socket),
      this,
      r.name,
      { key: r.current ?? "", user: u?.user, pass: u?.pass },
      GATEWAY_AUTH_TIMEOUT_MS,
    );
    this.connections.add(gw);
    this.logger.info(`${gw.describe()} - Creating outbound gateway connection to "${r.name}"`);
  }

  private acceptTransport(transport: Transport): GatewayConnection {
    const timeout = this.config.authorization?.timeoutMs ?? GATEWAY_AUTH_TIMEOUT_MS;
    const gw = new GatewayConnection(this.host.nextConnectionId(), transport, this, "", undefined, timeout);
    this.connections.add(gw);
    this.logger.debug(`${gw.describe()} - Processing inbound gateway connection`);
    return gw;
  }

  // This cluster

  /** A gossip INFO about a remote cluster (to inbound gateways and to routes). */
  private gossipJson(r: RemoteCluster, serverId: string): string {
    return JSON.stringify({
      server_id: serverId,
      server_name: this.host.name,
      gateway: r.name,
      gateway_urls: [...r.urls.keys()],
      gateway_cmd: GatewayCmd.Gossip,
    });
  }

  /**
   * Every server of this cluster must reach that remote cluster too: tell the routes about it. The id is not
   * ours, so that a server without gateway support takes it for gossip it cannot act on (as nats-server).
   */
  private tellCluster(r: RemoteCluster): void {
    const cluster = this.host.cluster;
    if (cluster === undefined) return;
    const line = `INFO ${this.gossipJson(r, `GW${this.host.id}`)}\r\n`;
    for (const route of cluster.routes.values()) route.sendProto(line);
  }

  /** This server's gateway URL, for the route INFO. */
  routeGatewayUrl(): string | undefined {
    return this.url === "" ? undefined : this.url;
  }

  /** A route registered (up) or closed: its server's gateway URL joins or leaves this cluster's list. */
  routeChanged(route: RouteConnection, up: boolean): void {
    if (this.stopped) return;
    const url = route.remote?.gateway_url;
    if (up) {
      if (url !== undefined && url !== "") {
        const n = this.clusterUrls.get(url) ?? 0;
        this.clusterUrls.set(url, n + 1);
        if (n === 0) this.infoChanged();
      }
      // The new peer learns which clusters we are connected to, and connects to them too.
      for (const r of this.remotes.values()) {
        if (r.connection?.registered) route.sendProto(`INFO ${this.gossipJson(r, `GW${this.host.id}`)}\r\n`);
      }
      return;
    }
    if (url === undefined || url === "") return;
    const n = this.clusterUrls.get(url) ?? 0;
    if (n <= 1) {
      this.clusterUrls.delete(url);
      if (n === 1) this.infoChanged();
    } else {
      this.clusterUrls.set(url, n - 1);
    }
  }

  /** A gateway INFO a route peer forwarded (`gateway_cmd` 1): a cluster it is connected to. */
  gossipFromRoute(info: { gateway?: string; gateway_urls?: string[]; gateway_cmd?: number }): void {
    if (info.gateway_cmd !== GatewayCmd.Gossip) return;
    this.implicitGateway(info.gateway, info.gateway_urls);
  }

  private setAdvertised(): void {
    const c = this.config;
    if (c.advertise) {
      const u = parseGatewayUrl(c.advertise);
      this.advertisedHost = u?.host ?? c.advertise;
      this.advertisedPort = u?.port ?? this.port;
    } else {
      this.advertisedHost = c.host;
      this.advertisedPort = this.port;
      if (c.host === "0.0.0.0" || c.host === "::" || c.host === "") this.advertisedHost = firstPublicIp();
    }
    this.url = hostPort(this.advertisedHost, this.advertisedPort);
  }

  // Monitoring

  /** Registered outbound connections by remote name. */
  *outboundConnections(): IterableIterator<{
    name: string;
    configured: boolean;
    connection: GatewayConnection;
  }> {
    for (const r of this.remotes.values())
      if (r.connection?.registered && !r.connection.closed)
        yield { name: r.name, configured: !r.implicit, connection: r.connection };
  }

  *inboundConnections(): IterableIterator<{ name: string; connection: GatewayConnection }> {
    for (const gw of this.inbound) if (!gw.closed) yield { name: gw.remoteName, connection: gw };
  }
}

function firstPublicIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === "IPv4") return a.address;
  }
  return "127.0.0.1";
}
