import type { Logger } from "../logger.js";
import type { Account } from "../server/account.js";
import type { ConnectionContext } from "../server/connection.js";
import type { ServerOptions } from "../server/options.js";
import type { FlushQueue } from "../server/outbound.js";
import type { Router } from "../server/router.js";
import type { ServerStats } from "../server/stats.js";

/** The server as every manager of server links (routes, gateways, leaf nodes) sees it. */
export interface LinkServerHost {
  readonly id: string;
  readonly name: string;
  readonly options: ServerOptions;
  readonly logger: Logger;
  readonly flushQueue: FlushQueue;
  readonly stats: ServerStats;
  readonly router: Router;
  readonly accounts: ReadonlyMap<string, Account>;
  nextConnectionId(): number;
  /** An account that is not loaded yet (operator mode asks the resolver). */
  lookupAccount(name: string): Account | undefined;
}

/**
 * The part the cluster, gateways and leaf nodes share: each is the context of its connections, passing on
 * what they need from the server, and finds accounts named by peers. The rest differs per kind.
 */
export abstract class LinkManager<H extends LinkServerHost> implements ConnectionContext {
  readonly options: ServerOptions;
  readonly logger: Logger;
  readonly flushQueue: FlushQueue;
  readonly stats: ServerStats;
  readonly router: Router;

  constructor(protected readonly host: H) {
    this.options = host.options;
    this.logger = host.logger;
    this.flushQueue = host.flushQueue;
    this.stats = host.stats;
    this.router = host.router;
  }

  abstract connectionClosed(conn: unknown): void;

  /** An account named by a peer; undefined when this server does not have it. */
  accountNamed(name: string): Account | undefined {
    return this.host.accounts.get(name) ?? this.host.lookupAccount(name);
  }
}
