// The JetStream engine: opens the store directory, loads every account's streams, answers the API and
// feeds monitoring. `startJetStream` is what the server's launcher calls before it starts listening.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { configFromOptions } from "../monitor/jsz.js";
import type { InternalClient } from "../server/internal-client.js";
import type { JetStreamOptions } from "../server/options.js";
import type { JetStreamEngine, Server } from "../server/server.js";
import { GLOBAL_ACCOUNT } from "../server/account.js";
import { ApiRouter } from "./api/router.js";
import { JsAccount } from "./js-account.js";
import { JszSource } from "./jsz-source.js";

function size(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Math.round(v * 100) / 100} ${units[i]}`;
}

export class JetStreamEngineImpl implements JetStreamEngine {
  private readonly accounts: JsAccount[] = [];
  private readonly routers: ApiRouter[] = [];
  private client: InternalClient | undefined;
  readonly monitor: JszSource;
  private stopped = false;

  constructor(
    private readonly server: Server,
    private readonly opts: JetStreamOptions,
  ) {
    this.monitor = new JszSource(configFromOptions(opts), () => this.accounts, server.name);
  }

  async start(): Promise<void> {
    const log = this.server.logger;
    const info = this.monitor.config();
    const root = join(resolve(this.opts.storeDir), "jetstream");
    mkdirSync(root, { recursive: true });
    log.info("Starting JetStream");
    log.info(`    Max Memory:      ${size(info.max_memory)}`);
    log.info(`    Max Storage:     ${size(info.max_storage)}`);
    log.info(`    Store Directory: "${root}"`);
    if (this.opts.domain) log.info(`    Domain:          ${this.opts.domain}`);
    if (this.opts.syncIntervalMs > 0) {
      log.warn(`    Sync interval ${this.opts.syncIntervalMs} ms: acknowledged messages may be lost on power loss`);
    }
    const client = this.server.createInternalClient("JetStream");
    this.client = client;
    const domain = this.opts.domain || undefined;
    const prefixes = ["$JS.API", ...(domain ? [`$JS.${domain}.API`] : [])];
    const account = new JsAccount({
      name: GLOBAL_ACCOUNT,
      root,
      client,
      logger: log,
      domain,
      apiPrefixes: prefixes,
      maxMemory: info.max_memory,
      maxStore: info.max_storage,
      syncIntervalMs: this.opts.syncIntervalMs,
      serverName: this.server.name,
    });
    log.info("  Recovering JetStream state for account \"$G\"");
    await account.load();
    log.info(`JetStream state for account "$G" recovered: ${account.streamCount} stream(s)`);
    this.accounts.push(account);
    const router = new ApiRouter(account, client, prefixes, domain ? `$JS.${domain}.API` : undefined);
    router.start();
    this.routers.push(router);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const r of this.routers) r.stop();
    for (const a of this.accounts) await a.shutdown();
    this.client?.close();
    this.server.logger.info("JetStream shut down");
  }
}

/** Create the engine, load the stores and attach it to the server (which then advertises JetStream). */
export async function startJetStream(server: Server, opts: JetStreamOptions): Promise<void> {
  const engine = new JetStreamEngineImpl(server, opts);
  await engine.start();
  server.attachJetStream(engine, engine.monitor);
}
