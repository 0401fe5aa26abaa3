import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Authenticator } from "../auth/authenticator.js";
import { nkeys } from "../auth/lazy-libs.js";
import type { AuthOptions, ClientAuthenticator, UserPermissions } from "../auth/types.js";
import type { Account } from "../server/account.js";
import { CloseReason } from "../server/close-reason.js";
import type { InternalClient } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";
import type { Transport } from "../server/transport.js";
import { TlsAcceptor } from "../tls/index.js";
import { NATS_FEATURE_LEVEL } from "../version.js";
import { Redialer } from "./dialer.js";
import { LeafConnection, type LeafHost } from "./leaf.js";
import { type LeafConnectInfo, type LeafInfo, parseCreds } from "./leaf-info.js";
import { leafRemoteDial, remoteWantsTls } from "./leaf-remote-dial.js";
import { forHost, type LeafClientTls, leafClientTls } from "./leaf-remote-tls.js";
import { type LeafRemoteUrl, parseLeafRemoteUrl } from "./leaf-remote-url.js";
import { displayHost, hostPort, LinkListener } from "./link-listener.js";
import { LinkManager, type LinkServerHost } from "./link-manager.js";
import { LocalInterest } from "./local-interest.js";
import { DEFAULT_LEAFNODE_PORT, type LeafNodeOptions, type LeafRemote } from "./options.js";

/** The server as leaf nodes see it. */
export interface LeafServerHost extends LinkServerHost {
  readonly globalAccount: Account;
  readonly jetStreamEnabled: boolean;
  /** The client authenticator, used for leaf connections when `leafnodes` has no authorization of its own. */
  readonly authenticator: ClientAuthenticator | undefined;
  /** This server's cluster name, when it has one. */
  readonly clusterName: string | undefined;
  readonly systemAccountName: string | undefined;
  createInternalClient(name: string, account?: Account): InternalClient;
}

/** After these errors the spoke waits before dialling again (nats-server's back-offs). */
const LOOP_BACKOFF_MS = 30_000;

interface RemoteLink {
  readonly config: LeafRemote;
  readonly index: number;
  readonly account: Account;
  dialer: Redialer<Transport>;
  next: number;
  connection: LeafConnection | undefined;
  /** Move on to the next URL (after a failed or lost attempt). */
  rotate(): void;
}

/**
 * Leaf nodes: a listener for spokes (this server as their hub) and the remotes this server dials (as their
 * spoke). Keeps every link told of the interest it should see: a hub link everything this server knows
 * except the link's own interest; a spoke link only this server's own interest.
 */
export class LeafNodes extends LinkManager<LeafServerHost> implements LeafHost {
  readonly connections = new Set<LeafConnection>();
  private readonly own = new LocalInterest();
  private readonly all = new LocalInterest((sub) => sub.queue !== "_sys_");
  private readonly watched = new Map<Account, () => void>();
  private readonly loopSubjects = new Map<
    Account,
    { subject: string; sub: Subscription; client: InternalClient }
  >();
  private readonly remotes: RemoteLink[] = [];
  private readonly auth: ClientAuthenticator | undefined;
  private readonly listener: LinkListener;
  private stopped = false;
  port = 0;

  constructor(
    host: LeafServerHost,
    readonly config: LeafNodeOptions,
  ) {
    super(host);
    this.auth = leafAuthenticator(config);
    // Hub side `tls { }`: INFO in plain text, then the spoke starts TLS (as clients do).
    const tls = config.tls === undefined ? undefined : new TlsAcceptor(config.tls, false);
    this.listener = new LinkListener(this.logger, (t) => this.acceptTransport(t), tls);
  }

  /** Listen for spokes (when a port is configured) and dial the remotes. Resolves with the listen URL. */
  async start(): Promise<string | undefined> {
    for (const account of this.host.accounts.values()) this.watch(account);
    let url: string | undefined;
    const c = this.config;
    const port = c.port;
    if (port !== undefined) {
      this.port = await this.listener.listen(c.host, port === 0 ? DEFAULT_LEAFNODE_PORT : port);
      this.logger.info(`Listening for leafnode connections on ${hostPort(c.host, this.port)}`);
      url = `nats-leaf://${displayHost(c.host)}:${this.port}`;
    }
    c.remotes.forEach((r, i) => {
      if (r.disabled) return;
      this.startRemote(r, i);
    });
    return url;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.remotes) r.dialer.stop();
    for (const off of this.watched.values()) off();
    this.watched.clear();
    for (const l of [...this.connections]) l.close(CloseReason.ServerShutdown);
    for (const { client } of this.loopSubjects.values()) client.close();
    await this.listener.stop();
  }

  /** Follow an account's interest (accounts created later are watched when they appear). */
  watch(account: Account): void {
    if (this.watched.has(account) || this.stopped) return;
    this.own.seed(account);
    this.all.seed(account);
    const off = account.onInterest((acc, change) => {
      const sign = change.kind === "add" ? 1 : -1;
      this.own.change(acc, change.sub, sign);
      this.all.change(acc, change.sub, sign);
      const { subject, queue } = change.sub;
      for (const l of this.connections)
        if (l.account === acc && l.registered) this.refresh(l, subject, queue);
    });
    this.watched.set(account, off);
  }

  /** Spoke links connected (for monitoring and tests). */
  get remoteLinks(): readonly { connection: LeafConnection | undefined; config: LeafRemote }[] {
    return this.remotes;
  }

  /** Each remote's dialer, for monitoring: its URLs, local account, connects made, current link. */
  *remoteDialerStats(): IterableIterator<{
    index: number;
    urls: readonly string[];
    account: string;
    connects: number;
    connection: LeafConnection | undefined;
  }> {
    for (const r of this.remotes)
      yield {
        index: r.index,
        urls: r.config.urls,
        account: r.account.name,
        connects: r.dialer.connects,
        connection: r.connection,
      };
  }

  /** A spoke connected: on the leafnode port, or through the websocket listener (`ws://host:port/leafnode`). */
  acceptTransport(transport: Transport): LeafConnection | undefined {
    if (this.stopped) {
      transport.destroy();
      return undefined;
    }
    const timeout = this.config.authorization?.timeoutMs ?? 2000;
    const leaf = new LeafConnection(this.host.nextConnectionId(), transport, this, undefined, timeout);
    this.connections.add(leaf);
    return leaf;
  }

  private startRemote(config: LeafRemote, index: number): void {
    const accountName = config.account ?? this.host.globalAccount.name;
    const account = this.accountNamed(accountName);
    if (account === undefined) {
      this.logger.error(`Leafnode remote ${index + 1}: account "${accountName}" does not exist`);
      return;
    }
    let clientTls: LeafClientTls;
    try {
      clientTls = leafClientTls(config.tls);
    } catch (err) {
      this.logger.error(`Leafnode remote ${index + 1}: ${(err as Error).message}`);
      return;
    }
    if (config.wsNoMasking) {
      // ws masks every frame a client sends; masked frames are what every hub accepts.
      this.logger.warn(
        `Leafnode remote ${index + 1}: ws_no_masking is not supported, frames sent to the hub stay masked`,
      );
    }
    const urls = config.urls.map(parseLeafRemoteUrl);
    const dialTarget = (u: LeafRemoteUrl) => ({ host: u.host, port: u.port });
    const link: RemoteLink = {
      config,
      index,
      account,
      next: 0,
      connection: undefined,
      dialer: undefined as unknown as Redialer<Transport>,
      rotate() {
        this.next++;
        this.dialer.retarget(dialTarget(urls[this.next % urls.length]!));
      },
    };
    const o = this.options;
    const current = () => urls[link.next % urls.length]!;
    const dial = leafRemoteDial({
      config,
      clientTls,
      maxFrame: Math.max(o.maxPending, 2 * (o.maxPayload + o.maxControlLine)),
      logger: this.logger,
      current,
      running: () => !this.stopped,
    });
    link.dialer = new Redialer(
      dialTarget(urls[0]!),
      {
        dial,
        retries: 0,
        minDelayMs: Math.min(250, this.config.reconnectMs),
        maxDelayMs: this.config.reconnectMs,
        timeoutMs: config.dialTimeoutMs ?? this.config.dialTimeoutMs ?? 2000,
        logger: this.logger,
        what: "leafnode remote",
      },
      (transport) => {
        if (this.stopped) {
          transport.destroy();
          return;
        }
        const u = current();
        const leaf = new LeafConnection(
          this.host.nextConnectionId(),
          transport,
          this,
          {
            account,
            hub: config.hub,
            url: u.url,
            index,
            denyImports: config.denyImports,
            denyExports: config.denyExports,
            // A TLS-first socket is secured already; the connection leaves it as it is.
            tls: u.websocket
              ? undefined
              : {
                  client: forHost(clientTls, u.host),
                  timeoutMs: clientTls.timeoutMs,
                  required: remoteWantsTls(config, u),
                },
          },
          2000,
        );
        link.connection = leaf;
        this.connections.add(leaf);
        this.logger.debug(`${leaf.describe()} - Leafnode connection created for account "${account.name}"`);
      },
    );
    this.remotes.push(link);
    link.dialer.start();
  }

  // LeafHost

  connectionClosed(conn: unknown): void {
    const leaf = conn as LeafConnection;
    if (!this.connections.delete(leaf)) return;
    if (leaf.registered)
      this.logger.info(`${leaf.describe()} - Leafnode connection closed: ${leaf.closeReason}`);
    else this.logger.debug(`${leaf.describe()} - Leafnode connection closed: ${leaf.closeReason}`);
    if (this.stopped || leaf.remote === undefined) return;
    const link = this.remotes[leaf.remote.index];
    if (link === undefined || link.connection !== leaf) return;
    link.connection = undefined;
    link.rotate();
    const err = leaf.lastError ?? "";
    const slow =
      leaf.loopDetected ||
      err.includes("same cluster name") ||
      leaf.closeReason === CloseReason.LeafnodeLoopDetected;
    if (slow) {
      this.logger.info(
        `Leafnode remote ${leaf.remote.url}: delaying reconnect for ${LOOP_BACKOFF_MS / 1000}s`,
      );
      link.dialer.connected = false;
      link.dialer.start(LOOP_BACKOFF_MS);
    } else {
      link.dialer.lost();
    }
  }

  hubInfoJson(leaf: LeafConnection, extra?: Record<string, unknown>): string {
    const o = this.options;
    const info: LeafInfo & Record<string, unknown> = {
      server_id: this.host.id,
      server_name: this.host.name,
      version: NATS_FEATURE_LEVEL,
      go: "lattice",
      host: this.config.host,
      port: this.port,
      headers: true,
      max_payload: o.maxPayload,
      jetstream: this.host.jetStreamEnabled,
      proto: 1,
      info_on_connect: true,
      leafnode_urls: [],
      client_id: leaf.cid,
    };
    const auth = this.auth ?? this.host.authenticator;
    if (auth?.required) info.auth_required = true;
    if (this.config.tls !== undefined) info.tls_required = true;
    if (auth?.needsNonce) {
      leaf.nonce ??= auth.makeNonce();
      info.nonce = leaf.nonce;
    }
    if (this.host.jetStreamEnabled && o.jetstream?.domain) info.domain = o.jetstream.domain;
    if (this.host.clusterName !== undefined) info.cluster = this.host.clusterName;
    if (extra !== undefined) {
      Object.assign(info, extra);
      if (extra.remote_account !== undefined)
        info.acc_is_sys = extra.remote_account === this.host.systemAccountName;
    }
    return JSON.stringify(info);
  }

  async bind(
    leaf: LeafConnection,
    c: LeafConnectInfo,
  ): Promise<{ account: Account; permissions?: UserPermissions } | string> {
    const cluster = this.host.clusterName;
    if (c.cluster && cluster !== undefined && c.cluster === cluster) {
      leaf.sendProto("-ERR 'remote leafnode has same cluster name'\r\n");
      return "remote leafnode has same cluster name";
    }
    const auth = this.auth ?? this.host.authenticator;
    if (auth === undefined || (!auth.required && !auth.hasNoAuthUser))
      return { account: this.host.globalAccount };
    const result = await auth.authenticate(
      {
        user: c.user,
        pass: c.pass,
        auth_token: c.auth_token,
        nkey: c.nkey,
        sig: c.sig,
        jwt: c.jwt,
        remoteAddress: leaf.transport.remoteAddress,
        client: { id: leaf.cid, name: c.name },
      },
      leaf.nonce,
      "LEAFNODE",
    );
    if (result === undefined) return "Authorization Violation";
    const account = this.accountNamed(result.account);
    if (account === undefined) return `account "${result.account}" does not exist`;
    return { account, permissions: result.permissions?.source };
  }

  connectJson(leaf: LeafConnection, info: LeafInfo): string {
    const remote = this.remotes[leaf.remote!.index]!;
    const o = this.options;
    const c: LeafConnectInfo & Record<string, unknown> = {
      version: NATS_FEATURE_LEVEL,
      server_id: this.host.id,
      name: this.host.name,
      headers: true,
      jetstream: this.host.jetStreamEnabled,
      protocol: 1,
    };
    if (remote.config.hub) c.is_hub = true;
    if (this.host.clusterName !== undefined) c.cluster = this.host.clusterName;
    if (this.host.jetStreamEnabled && o.jetstream?.domain) c.domain = o.jetstream.domain;
    if (remote.config.denyImports.length > 0) c.deny_pub = remote.config.denyImports;
    const url = parseLeafRemoteUrl(leaf.remote!.url);
    if (remote.config.credentials !== undefined) {
      const { jwt, seed } = parseCreds(readFileSync(remote.config.credentials, "utf8"));
      c.jwt = jwt;
      c.sig = signNonce(seed, info.nonce ?? "");
    } else if (remote.config.nkey !== undefined) {
      const seed = readSeed(remote.config.nkey);
      const kp = nkeys().fromSeed(new TextEncoder().encode(seed));
      c.nkey = kp.getPublicKey();
      c.sig = signNonce(seed, info.nonce ?? "");
    } else if (url.user !== undefined) {
      if (url.pass !== undefined) {
        c.user = url.user;
        c.pass = url.pass;
      } else {
        c.auth_token = url.user;
      }
    }
    return JSON.stringify(c);
  }

  leafReady(leaf: LeafConnection): boolean {
    const account = leaf.account;
    if (account === undefined) {
      leaf.close(CloseReason.MissingAccount);
      return false;
    }
    if (!leaf.solicited) {
      // The same server reconnecting before its old link timed out: the new link replaces it. Several
      // links from one remote cluster are fine (its servers each dial us).
      const id = leaf.remoteConnect?.server_id;
      if (id !== undefined)
        for (const other of this.connections)
          if (other !== leaf && other.registered && !other.solicited && other.account === account)
            if (other.remoteConnect?.server_id === id)
              other.close(CloseReason.DuplicateRemoteLeafnodeConnection);
    } else {
      // A loop: the hub cluster we dial is also a leaf cluster of ours on this account.
      const cluster = leaf.remoteCluster;
      for (const other of this.connections) {
        if (other === leaf || !other.registered || other.account !== account) continue;
        if (cluster && other.leafCluster === cluster) {
          const text = `Loop detected for leafnode account="${account.name}". Delaying attempt to reconnect for 30s`;
          this.logger.error(`${leaf.describe()} - ${text}`);
          leaf.loopDetected = true;
          leaf.close(CloseReason.LeafnodeLoopDetected, text);
          return false;
        }
      }
    }
    this.ensureLoopSubject(account);
    this.logger.info(
      `${leaf.describe()} - Leafnode connection ${leaf.solicited ? "to" : "from"} "${leaf.remoteName}" bound to account "${account.name}" (${leaf.spoke ? "spoke" : "hub"})`,
    );
    return true;
  }

  sendAllInterest(leaf: LeafConnection): void {
    const account = leaf.account!;
    const table = leaf.spoke ? this.own : this.all;
    for (const e of table.entries(account)) this.refresh(leaf, e.subject, e.queue);
  }

  isOwnLoopSubject(account: Account, subject: string): boolean {
    return this.loopSubjects.get(account)?.subject === subject;
  }

  /** Bring one link's view of one subject (and queue group) up to date. */
  private refresh(leaf: LeafConnection, subject: string, queue: string | undefined): void {
    const account = leaf.account!;
    let weight: number;
    if (leaf.spoke) {
      weight = this.own.get(account, subject, queue)?.count ?? 0;
    } else {
      // Leave out the link's own interest, and that of the other links from its cluster: those servers
      // reach each other over their own routes.
      weight = (this.all.get(account, subject, queue)?.count ?? 0) - leaf.ownWeight(subject, queue);
      const cluster = leaf.leafCluster;
      if (cluster !== undefined)
        for (const other of this.connections)
          if (other !== leaf && other.account === account && other.leafCluster === cluster)
            weight -= other.ownWeight(subject, queue);
    }
    leaf.tell(subject, queue, Math.max(0, weight));
  }

  /** Each account with leaf links has a `$LDS.<id>` subscription: seeing it come back over a link is a loop. */
  private ensureLoopSubject(account: Account): void {
    if (this.loopSubjects.has(account)) return;
    const subject = `$LDS.${randomBytes(16).toString("base64url").replace(/[-_]/g, "x")}`;
    const client = this.host.createInternalClient("leafnode loop detection", account);
    const sub = client.subscribe(subject, () => {});
    this.loopSubjects.set(account, { subject, sub, client });
  }
}

function leafAuthenticator(config: LeafNodeOptions): ClientAuthenticator | undefined {
  const a = config.authorization;
  if (a === undefined) return undefined;
  const opts: AuthOptions = { timeoutMs: a.timeoutMs };
  if (a.users !== undefined && a.users.length > 0) {
    opts.users = a.users.map((u) => ({
      user: u.user,
      password: u.password,
      account: u.account,
      permissions: u.permissions,
    }));
  } else if (a.user !== undefined) {
    opts.users = [{ user: a.user, password: a.password, account: a.account }];
  } else if (a.token !== undefined) {
    opts.token = a.token;
  } else {
    return undefined;
  }
  return new Authenticator(opts);
}

function readSeed(nkey: string): string {
  if (nkey.startsWith("SU")) return nkey.trim();
  const text = readFileSync(nkey, "utf8");
  const m = /SU[A-Z2-7]{56}/.exec(text);
  if (m === null) throw new Error(`no user nkey seed in ${nkey}`);
  return m[0];
}

function signNonce(seed: string, nonce: string): string {
  const kp = nkeys().fromSeed(new TextEncoder().encode(seed));
  return Buffer.from(kp.sign(new TextEncoder().encode(nonce))).toString("base64url");
}
