// The JetStream engine: opens the store directory, loads every account's streams, answers the API and
// feeds monitoring. Accounts get JetStream from the config file, or in operator mode from their JWT's
// limits, followed through claim updates. `startJetStream` is what the server's launcher calls before it
// starts listening.

import { existsSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { jetStreamLimitsOf } from "../accounts/js-limits.js";
import type { Tenant } from "../accounts/tenant.js";
import { DEFAULT_SYSTEM_ACCOUNT } from "../accounts/types.js";
import { configFromOptions } from "../monitor/jsz.js";
import { GLOBAL_ACCOUNT } from "../server/account.js";
import type { InternalClient } from "../server/internal-client.js";
import type { JetStreamOptions } from "../server/options.js";
import type { JetStreamEngine, Server } from "../server/server.js";
import { ApiRouter, DisabledAccountApi } from "./api/router.js";
import { JsAccount, type JsLimitSet } from "./js-account.js";
import { JszSource } from "./jsz-source.js";
import { StoreLock } from "./store-lock.js";

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

/** What answers an account's JetStream API: its streams, or "not enabled for account". */
type Slot =
  | { readonly kind: "enabled"; readonly account: JsAccount; stop(): void }
  | { readonly kind: "disabled"; stop(): void };

export class JetStreamEngineImpl implements JetStreamEngine {
  private readonly accounts: JsAccount[] = [];
  private readonly slots = new Map<string, Slot>();
  private readonly clients = new Map<string, InternalClient>();
  private readonly prefixes: string[];
  private readonly domain: string | undefined;
  private readonly root: string;
  readonly monitor: JszSource;
  private stopped = false;
  /** Held from start to shutdown: no second server may use this store directory meanwhile. */
  private lock: StoreLock | undefined;
  /** Account changes (operator mode) are applied one at a time, in order. */
  private changes: Promise<void> = Promise.resolve();
  private unfollow: (() => void) | undefined;

  constructor(
    private readonly server: Server,
    private readonly opts: JetStreamOptions,
  ) {
    this.monitor = new JszSource(configFromOptions(opts), () => this.accounts, server.name);
    this.domain = opts.domain || undefined;
    this.prefixes = ["$JS.API", ...(this.domain ? [`$JS.${this.domain}.API`] : [])];
    this.root = join(resolve(opts.storeDir), "jetstream");
  }

  /** The JetStream side of an account, when JetStream is enabled for it. */
  account(name: string): JsAccount | undefined {
    const slot = this.slots.get(name);
    return slot?.kind === "enabled" ? slot.account : undefined;
  }

  async start(): Promise<void> {
    const log = this.server.logger;
    const info = this.monitor.config();
    mkdirSync(this.root, { recursive: true });
    this.lock = StoreLock.acquire(realpathSync(this.root));
    log.info("Starting JetStream");
    log.info(`    Max Memory:      ${size(info.max_memory)}`);
    log.info(`    Max Storage:     ${size(info.max_storage)}`);
    log.info(`    Store Directory: "${this.root}"`);
    if (this.opts.domain) log.info(`    Domain:          ${this.opts.domain}`);
    if (this.opts.syncIntervalMs > 0) {
      log.warn(
        `    Sync interval ${this.opts.syncIntervalMs} ms: acknowledged messages may be lost on power loss`,
      );
    }
    const manager = this.server.accountManager;
    if (manager.operatorMode) {
      await this.startOperatorMode();
      return;
    }
    const { enabled, disabled } = this.jetStreamAccounts();
    for (const name of enabled) {
      const limits = this.server.options.accounts?.find((a) => a.name === name)?.jetstreamLimits;
      await this.enable(name, limits === undefined ? undefined : { default: limits, tiers: {} });
    }
    for (const name of disabled) this.disable(name);
  }

  /**
   * Operator mode: an account has JetStream when its JWT grants JetStream limits, and follows claim
   * updates. Accounts with streams on disk are loaded now; others as they are first used.
   */
  private async startOperatorMode(): Promise<void> {
    const manager = this.server.accountManager;
    this.unfollow = manager.onTenantChange((t) => this.follow(t));
    for (const t of manager.tenants.values()) this.follow(t);
    const onDisk = existsSync(this.root)
      ? readdirSync(this.root, { withFileTypes: true }).filter((d) => d.isDirectory())
      : [];
    for (const d of onDisk) if (!manager.tenants.has(d.name)) manager.resolveAccount(d.name);
    await this.changes;
  }

  private follow(t: Tenant): Promise<void> | undefined {
    const name = t.name;
    if (name === GLOBAL_ACCOUNT || name === this.server.accountManager.systemAccountName) return undefined;
    const limits = jetStreamLimitsOf(t.claims);
    this.changes = this.changes
      .then(() => this.apply(name, limits))
      .catch((err: Error) => {
        this.server.logger.error(`JetStream for account "${name}": ${err.message}`);
      });
    return this.changes;
  }

  private async apply(name: string, limits: JsLimitSet | undefined): Promise<void> {
    if (this.stopped) return;
    const slot = this.slots.get(name);
    if (limits === undefined) {
      if (slot?.kind === "disabled") return;
      if (slot !== undefined) {
        this.server.logger.info(`JetStream disabled for account "${name}"`);
        await this.release(name, slot);
      }
      this.disable(name);
    } else if (slot?.kind === "enabled") {
      slot.account.setLimits(limits);
      this.server.logger.info(`JetStream limits of account "${name}" updated`);
    } else {
      if (slot !== undefined) await this.release(name, slot);
      await this.enable(name, limits);
    }
  }

  private clientFor(name: string): InternalClient | undefined {
    let client = this.clients.get(name);
    if (client !== undefined) return client;
    const acc = this.server.accounts.get(name);
    if (acc === undefined) return undefined;
    client = this.server.createInternalClient(`JetStream ${name}`, acc, "jetstream");
    this.clients.set(name, client);
    return client;
  }

  private async enable(name: string, limits: JsLimitSet | undefined): Promise<void> {
    const client = this.clientFor(name);
    if (client === undefined) return;
    const log = this.server.logger;
    const info = this.monitor.config();
    const account = new JsAccount({
      name,
      root: this.root,
      client,
      logger: log,
      domain: this.domain,
      apiPrefixes: this.prefixes,
      maxMemory: info.max_memory,
      maxStore: info.max_storage,
      syncIntervalMs: this.opts.syncIntervalMs,
      serverName: this.server.name,
      limits,
    });
    log.info(`  Recovering JetStream state for account "${name}"`);
    await account.load();
    log.info(`JetStream state for account "${name}" recovered: ${account.streamCount} stream(s)`);
    this.accounts.push(account);
    const router = new ApiRouter(
      account,
      client,
      this.prefixes,
      this.domain ? `$JS.${this.domain}.API` : undefined,
    );
    router.start();
    this.slots.set(name, { kind: "enabled", account, stop: () => router.stop() });
  }

  private disable(name: string): void {
    const client = this.clientFor(name);
    if (client === undefined) return;
    const api = new DisabledAccountApi(client, this.prefixes);
    api.start();
    this.slots.set(name, { kind: "disabled", stop: () => api.stop() });
  }

  /** Stops what answers for the account; an enabled account's streams close (their data stays). */
  private async release(name: string, slot: Slot): Promise<void> {
    slot.stop();
    this.slots.delete(name);
    if (slot.kind !== "enabled") return;
    const i = this.accounts.indexOf(slot.account);
    if (i >= 0) this.accounts.splice(i, 1);
    await slot.account.shutdown();
  }

  /**
   * Which accounts get JetStream: without an `accounts` block the global account; with one, the accounts
   * marked `jetstream` (the others answer "not enabled for account"). The system account gets neither.
   */
  private jetStreamAccounts(): { enabled: string[]; disabled: string[] } {
    const o = this.server.options;
    const configured = o.accounts ?? [];
    if (configured.length === 0) return { enabled: [GLOBAL_ACCOUNT], disabled: [] };
    const enabled = configured.filter((a) => a.jetstream).map((a) => a.name);
    const system = o.noSystemAccount ? undefined : (o.systemAccount ?? DEFAULT_SYSTEM_ACCOUNT);
    const disabled = [...this.server.accounts.keys()].filter((n) => !enabled.includes(n) && n !== system);
    return { enabled, disabled };
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unfollow?.();
    await this.changes;
    for (const slot of this.slots.values()) slot.stop();
    for (const a of this.accounts) await a.shutdown();
    for (const c of this.clients.values()) c.close();
    this.lock?.release();
    this.server.logger.info("JetStream shut down");
  }
}

/** Create the engine, load the stores and attach it to the server (which then advertises JetStream). */
export async function startJetStream(server: Server, opts: JetStreamOptions): Promise<void> {
  const engine = new JetStreamEngineImpl(server, opts);
  try {
    await engine.start();
  } catch (err) {
    await engine.shutdown().catch(() => {});
    throw err;
  }
  server.attachJetStream(engine, engine.monitor);
}
