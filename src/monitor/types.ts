import type { X509Certificate } from "node:crypto";
import type { ClusterOptions, LeafNodeOptions } from "../cluster/options.js";
import type { ServerOptions } from "../server/options.js";
import type { Ports } from "../server/ports-file.js";
import type { ServerStats, TrafficStats } from "../server/stats.js";
import type { SubjectIndexStats } from "../subjects/subject-index.js";
import type { ConnzGrant } from "./connz-auth.js";
import type { JetStreamMonitorSource } from "./jsz.js";

// The slice of the server that monitoring reads. Server, ClientConnection and Subscription satisfy these
// structurally, so endpoints can be tested against small fakes and never reach further into the server.

export interface MonitoredSubscription {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  readonly delivered: number;
  readonly max: number;
  readonly owner: { readonly cid: number };
}

export interface MonitoredAccount {
  readonly name: string;
  /** Client connections bound to the account. */
  readonly connections: number;
  readonly sublist: {
    readonly count: number;
    stats(): SubjectIndexStats;
    subscriptions(): Iterable<MonitoredSubscription>;
  };
}

export interface MonitoredConnection {
  readonly cid: number;
  readonly kind: string;
  readonly start: Date;
  /** Epoch milliseconds. */
  readonly lastActivity: number;
  readonly stop: Date | undefined;
  readonly closeReason: string | undefined;
  readonly stats: TrafficStats;
  readonly pendingBytes: number;
  readonly rttMs: number;
  readonly subs: ReadonlyMap<string, MonitoredSubscription>;
  readonly account: { readonly name: string } | undefined;
  readonly transport: {
    readonly kind: string;
    readonly remoteAddress: string;
    readonly remotePort: number;
    readonly tls?: { readonly version: string; readonly cipherSuite: string } | undefined;
    readonly peerCertificate?: X509Certificate | undefined;
  };
  readonly connect?:
    | {
        readonly name?: string;
        readonly lang?: string;
        readonly version?: string;
        readonly auth_token?: string;
      }
    | undefined;
  readonly user?: string | undefined;
}

/** What routes and leaf links share: a connection with traffic counters and an address. */
export interface MonitoredLink {
  readonly cid: number;
  readonly start: Date;
  /** Epoch milliseconds. */
  readonly lastActivity: number;
  readonly stats: TrafficStats;
  readonly pendingBytes: number;
  readonly rttMs: number;
  readonly transport: { readonly remoteAddress: string; readonly remotePort: number };
}

/** A registered route (src/cluster/route.ts). */
export interface MonitoredRoute extends MonitoredLink {
  /** The peer's INFO. */
  readonly remote: { readonly server_id?: string; readonly server_name?: string } | undefined;
  readonly solicited: boolean;
  readonly solicitedUrl: string | undefined;
  /** The peer's interest (subscriptions standing for it here). */
  readonly subCount: number;
  remoteSubscriptions(): Iterable<{ account: string; sub: MonitoredSubscription }>;
}

/** A route dialer: configured (explicit) or learned by gossip, and how often it connected. */
export interface MonitoredDialer {
  readonly url: string;
  readonly explicit: boolean;
  /** The peer it reached last, once known. */
  readonly peerId: string | undefined;
  readonly connects: number;
}

/** The cluster's routes (src/cluster/cluster.ts). */
export interface MonitoredCluster {
  readonly clusterName: string;
  /** The route listener's port (0 without one). */
  readonly port: number;
  readonly config: ClusterOptions;
  /** Registered routes by peer server id. */
  readonly routes: ReadonlyMap<string, MonitoredRoute>;
  /** The other servers' client URLs. */
  peerConnectUrls(): string[];
  dialerStats?(): Iterable<MonitoredDialer>;
}

/** A leaf-node link (src/cluster/leaf.ts). */
export interface MonitoredLeaf extends MonitoredLink {
  readonly registered: boolean;
  /** This server is the spoke of the link. */
  readonly spoke: boolean;
  readonly remoteName: string;
  /** The peer's INFO (this server dialled) or CONNECT (it dialled us), for its server id. */
  readonly remoteInfo?: { readonly server_id?: string } | undefined;
  readonly remoteConnect?: { readonly server_id?: string } | undefined;
  readonly account: { readonly name: string } | undefined;
  readonly subCount: number;
  /** The peer's interest as `subject` or `subject queue`. */
  remoteSubjects(): string[];
}

/** A leaf remote (this server dials it as a spoke) and its dialer. */
export interface MonitoredLeafRemote {
  readonly index: number;
  readonly urls: readonly string[];
  readonly account: string;
  readonly connects: number;
  readonly connection: MonitoredLeaf | undefined;
}

/** Leaf nodes (src/cluster/leafnodes.ts). */
export interface MonitoredLeafNodes {
  /** The leaf-node listener's port (0 without one). */
  readonly port: number;
  readonly config: LeafNodeOptions;
  readonly connections: ReadonlySet<MonitoredLeaf>;
  remoteDialerStats?(): Iterable<MonitoredLeafRemote>;
}

export interface MonitoredServer {
  readonly id: string;
  readonly name: string;
  readonly options: ServerOptions;
  readonly stats: ServerStats;
  readonly clients: ReadonlyMap<number, MonitoredConnection>;
  readonly closed: { list(): readonly MonitoredConnection[] };
  readonly accounts: ReadonlyMap<string, MonitoredAccount>;
  readonly startTime: Date;
  readonly port: number;
  readonly subscriptionCount: number;
  readonly authenticator?: { readonly advertiseRequired?: boolean; readonly timeoutMs?: number } | undefined;
  /** Accounts beyond `$G` (the system account's name for /accountz). */
  readonly accountManager?: {
    readonly systemAccountName: string | undefined;
    /** What a live JWT user connected with, for /connz?auth=true. */
    grantOf?(c: MonitoredConnection): ConnzGrant | undefined;
  };
  /** Set by the JetStream engine once it runs; absent until then. */
  readonly jetstreamMonitor?: JetStreamMonitorSource | undefined;
  /** Routes (`cluster { }`), when configured. */
  readonly cluster?: MonitoredCluster | undefined;
  /** Leaf-node links (`leafnodes { }`), when configured. */
  readonly leafnodes?: MonitoredLeafNodes | undefined;
  /** In lame-duck mode (its own client URLs are no longer advertised). */
  readonly lameDuck?: boolean;
  /** This server's client URLs (`host:port`) as the cluster advertises them. */
  clientConnectUrls?(): string[];
  listenerUrls(): Ports;
}

/** A request the endpoint refuses; the text is sent as-is, like nats-server's plain-text errors. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What an endpoint returns: a JSON body, pretty-printed unless `compact`. */
export interface EndpointResult {
  body: unknown;
  status?: number;
  compact?: boolean;
}
