import type { X509Certificate } from "node:crypto";
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
