// The JetStream engine: opens the store directory, loads every account's streams, answers the API and
// feeds monitoring. `startJetStream` is what the server's launcher calls before it starts listening.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_SYSTEM_ACCOUNT } from "../accounts/types.js";
import { configFromOptions } from "../monitor/jsz.js";
import { GLOBAL_ACCOUNT } from "../server/account.js";
import type { InternalClient } from "../server/internal-client.js";
import type { JetStreamOptions } from "../server/options.js";
import type { JetStreamEngine, Server } from "../server/server.js";
import { ApiRouter, DisabledAccountApi } from "./api/router.js";
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
  private readonly stoppers: (() => void)[] = [];
  private readonly clients: InternalClient[] = [];
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
      log.warn(
        `    Sync interval ${this.opts.syncIntervalMs} ms: acknowledged messages may be lost on power loss`,
      );
    }
    const domain = this.opts.domain || undefined;
    const prefixes = ["$JS.API", ...(domain ? [`$JS.${domain}.API`] : [])];
    const { enabled, disabled } = this.jetStreamAccounts();
    for (const name of enabled) {
      const acc = this.server.accounts.get(name);
      if (acc === undefined) continue;
      const client = this.server.createInternalClient(`JetStream ${name}`, acc);
      this.clients.push(client);
      const account = new JsAccount({
        name,
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
      log.info(`  Recovering JetStream state for account "${name}"`);
      await account.load();
      log.info(`JetStream state for account "${name}" recovered: ${account.streamCount} stream(s)`);
      this.accounts.push(account);
      const router = new ApiRouter(account, client, prefixes, domain ? `$JS.${domain}.API` : undefined);
      router.start();
      this.stoppers.push(() => router.stop());
    }
    for (const name of disabled) {
      const acc = this.server.accounts.get(name);
      if (acc === undefined) continue;
      const client = this.server.createInternalClient(`JetStream ${name}`, acc);
      this.clients.push(client);
      const api = new DisabledAccountApi(client, prefixes);
      api.start();
      this.stoppers.push(() => api.stop());
    }
  }

  /**
   * Which accounts get JetStream: without an `accounts` block the global account; with one, the accounts
   * marked `jetstream` (the others answer "not enabled for account"). The system account gets neither.
   */
  private jetStreamAccounts(): { enabled: string[]; disabled: string[] } {
    const o = this.server.options;
    const configured = o.operator === undefined ? (o.accounts ?? []) : [];
    if (configured.length === 0) return { enabled: [GLOBAL_ACCOUNT], disabled: [] };
    const enabled = configured.filter((a) => a.jetstream).map((a) => a.name);
    const system = o.noSystemAccount ? undefined : (o.systemAccount ?? DEFAULT_SYSTEM_ACCOUNT);
    const disabled = [...this.server.accounts.keys()].filter((n) => !enabled.includes(n) && n !== system);
    return { enabled, disabled };
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const stop of this.stoppers) stop();
    for (const a of this.accounts) await a.shutdown();
    for (const c of this.clients) c.close();
    this.server.logger.info("JetStream shut down");
  }
}

/** Create the engine, load the stores and attach it to the server (which then advertises JetStream). */
export async function startJetStream(server: Server, opts: JetStreamOptions): Promise<void> {
  const engine = new JetStreamEngineImpl(server, opts);
  await engine.start();
  server.attachJetStream(engine, engine.monitor);
}
