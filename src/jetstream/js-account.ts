// JetStream for one account: its streams (file streams under `<store>/jetstream/<account>/streams/`, see
// stream-dir.ts), the account-wide rules for creating, updating and deleting them (subject overlap,
// limits, source cycles), resource accounting, and which streams answer direct gets. Admin operations run
// one at a time.

import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../logger.js";
import type { InternalClient } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";
import { subjectsCollide } from "../subjects/pattern.js";
import { type AccountLimits, UNLIMITED } from "./account-limits.js";
import { type JetStreamAdmin, LocalAdmin } from "./admin.js";
import { Advisories } from "./advisories.js";
import { directResponders } from "./api/direct-get.js";
import { type ApiError, apiError, apiErrorText } from "./api-errors.js";
import { checkCreate, checkUpdate, normalizeConfig } from "./config-check.js";
import { attachConsumers } from "./consumer/consumer-set.js";
import { Sourcing, type StreamLookup } from "./sourcing.js";
import type { MessageStore, StoreProblem } from "./store/index.js";
import { Stream, type StreamHost } from "./stream.js";
import { configKey, decodeStreamConfig, type StreamConfig } from "./stream-config.js";
import { createStreamDir, openStore, readDefinition, saveDefinition, setAside } from "./stream-dir.js";

/** Account limits as $JS.API.INFO reports them; -1 = unlimited. */
export type { AccountLimits } from "./account-limits.js";
export { UNLIMITED } from "./account-limits.js";

const USAGE_TTL_MS = 250;

/**
 * An account's JetStream limits: one set for every stream (`default`), or tiered limits by replica count
 * (`R1`, `R3`; only R1 streams exist on a single server).
 */
export interface JsLimitSet {
  readonly default: AccountLimits | undefined;
  readonly tiers: Readonly<Record<string, AccountLimits>>;
}

/** What an account with no tier for a stream may do: nothing. */
const NOTHING: AccountLimits = { ...UNLIMITED, max_memory: 0, max_storage: 0 };

export interface AccountOptions {
  name: string;
  /** `<store>/jetstream` */
  root: string;
  client: InternalClient;
  logger: Logger;
  domain: string | undefined;
  /** API prefixes this account answers on. */
  apiPrefixes: readonly string[];
  /** Server-wide resources (bytes), for reservation checks. */
  maxMemory: number;
  maxStore: number;
  syncIntervalMs: number;
  limits?: AccountLimits | JsLimitSet;
  /** For advisories. */
  serverName: string;
}

interface Entry {
  stream: Stream;
  sourcing: Sourcing | undefined;
  dir: string | undefined;
  direct: Subscription[];
}

/** A problem found while loading, for the log, /jsz and /healthz. */
export interface LoadProblem {
  stream: string;
  message: string;
  /** The stream could not be loaded at all. */
  fatal: boolean;
  store?: readonly StoreProblem[];
}

export class JsAccount implements StreamLookup, StreamHost {
  readonly name: string;
  readonly client: InternalClient;
  readonly logger: Logger;
  readonly domain: string | undefined;
  private limitSet: JsLimitSet;
  readonly localApis: readonly string[];
  readonly api = { total: 0, errors: 0 };
  readonly problems: LoadProblem[] = [];
  readonly advisories: Advisories;
  /** Where the API's changes go: applied here (one server), or proposed to a group (clustered). */
  admin: JetStreamAdmin = new LocalAdmin(this);
  private readonly entries = new Map<string, Entry>();
  private readonly streamsDir: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** Bytes used per storage kind, recounted at most every USAGE_TTL_MS and bumped by reservations between. */
  private used = { memory: 0, file: 0, at: 0 };

  constructor(private readonly opts: AccountOptions) {
    this.name = opts.name;
    this.client = opts.client;
    this.logger = opts.logger;
    this.domain = opts.domain;
    this.limitSet = toLimitSet(opts.limits ?? UNLIMITED);
    this.localApis = opts.apiPrefixes;
    this.streamsDir = join(opts.root, opts.name, "streams");
    this.advisories = new Advisories(opts.client, opts.serverName, opts.name, opts.domain);
  }

  // ---- limits ------------------------------------------------------------------------------------

  /** The limits streams of this account work under (every stream is R1 here: the R1 tier when tiered). */
  get limits(): AccountLimits {
    return this.limitSet.default ?? this.limitSet.tiers.R1 ?? NOTHING;
  }

  /** The whole limit set, as $JS.API.INFO reports it. */
  get limitTiers(): JsLimitSet {
    return this.limitSet;
  }

  /** New limits (a claims update): they apply to what is created or stored from now on. */
  setLimits(limits: AccountLimits | JsLimitSet): void {
    this.limitSet = toLimitSet(limits);
    this.used.at = 0;
  }

  /** The limits a stream's config falls under and their tier ("" untiered); 10120 when none applies. */
  private selectLimits(config: StreamConfig): { limits: AccountLimits; tier: string } {
    const set = this.limitSet;
    if (set.default !== undefined) return { limits: set.default, tier: "" };
    const tier = `R${Math.max(1, config.num_replicas)}`;
    const limits = set.tiers[tier];
    if (limits === undefined) throw apiError("NoLimits");
    return { limits, tier };
  }

  // ---- lookup ------------------------------------------------------------------------------------

  stream(name: string): Stream | undefined {
    return this.entries.get(name)?.stream;
  }

  sourcing(name: string): Sourcing | undefined {
    return this.entries.get(name)?.sourcing;
  }

  /** Streams sorted by name. */
  streams(): Stream[] {
    return [...this.entries.keys()].sort().map((n) => this.entries.get(n)!.stream);
  }

  get streamCount(): number {
    return this.entries.size;
  }

  /** Run admin operations one at a time (create/update/delete interleave with awaits). */
  serialize<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  // ---- usage -------------------------------------------------------------------------------------

  usage(): {
    memory: number;
    storage: number;
    streams: number;
    consumers: number;
    messages: number;
    bytes: number;
  } {
    let memory = 0;
    let storage = 0;
    let consumers = 0;
    let messages = 0;
    for (const e of this.entries.values()) {
      const st = e.stream.store.state();
      if (e.stream.config.storage === "memory") memory += st.bytes;
      else storage += st.bytes;
      messages += st.messages;
      consumers += e.stream.consumerCount;
    }
    return { memory, storage, streams: this.entries.size, consumers, messages, bytes: memory + storage };
  }

  /**
   * Room for `bytes` more of `storage`? Counts them and answers undefined when there is; otherwise the
   * error to answer the publisher with: the account's limit (10002) or the server's (10023).
   */
  reserve(storage: "file" | "memory", bytes: number): ApiError | undefined {
    const server = storage === "memory" ? this.opts.maxMemory : this.opts.maxStore;
    const l = this.limits;
    const account = storage === "memory" ? l.max_memory : l.max_storage;
    if (server <= 0 && account < 0) return undefined;
    const now = Date.now();
    if (now - this.used.at > USAGE_TTL_MS) {
      const u = this.usage();
      this.used = { memory: u.memory, file: u.storage, at: now };
    }
    const after = this.used[storage] + bytes;
    if (account >= 0 && after > account) {
      this.used.at = 0; // removals may have made room: recount next time
      return apiError("AccountResourcesExceeded");
    }
    if (server > 0 && after > server) {
      this.used.at = 0;
      return apiError("InsufficientResources");
    }
    this.used[storage] += bytes;
    return undefined;
  }

  // ---- load / shutdown -----------------------------------------------------------------------------

  /** Load every stream persisted under this account; problems are logged and kept, never thrown. */
  async load(): Promise<void> {
    if (!existsSync(this.streamsDir)) return;
    const names = readdirSync(this.streamsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      const dir = join(this.streamsDir, name);
      try {
        await this.loadOne(name, dir);
      } catch (err) {
        this.problem({
          stream: name,
          fatal: true,
          message: `could not load stream: ${(err as Error).message}`,
        });
      }
    }
    for (const e of this.entries.values()) e.sourcing?.attachAll();
  }

  private async loadOne(name: string, dir: string): Promise<void> {
    const { config, created, sumOk } = readDefinition(dir);
    if (config.name !== name) throw new Error(`meta.inf names stream '${config.name}'`);
    if (!sumOk) {
      this.problem({
        stream: name,
        fatal: false,
        message: "meta.sum missing or not matching meta.inf; rewritten",
      });
      saveDefinition(dir, created, config);
    }
    const store = await openStore(config, dir, this.opts.syncIntervalMs);
    const problems = store.problems();
    if (problems.length > 0) {
      // Logged now; /jsz reads the store's live list (allProblems), which may grow while reading.
      this.logger.warn(
        `JetStream stream '${this.name} > ${name}': store damage found: ${problems.length} problem(s), ` +
          `first: ${problems[0].message}; damaged records are not served`,
      );
    }
    const st = store.state();
    this.logger.info(`  Restored ${st.messages} messages for stream '${this.name} > ${name}'`);
    this.register(config, store, created, dir);
  }

  /** Load problems plus what each store reports now. */
  allProblems(): LoadProblem[] {
    const out = [...this.problems];
    for (const e of this.entries.values()) {
      const sp = e.stream.store.problems();
      if (sp.length > 0) {
        out.push({
          stream: e.stream.name,
          fatal: false,
          store: sp,
          message: `${sp.length} store problem(s), first: ${sp[0].message}`,
        });
      }
    }
    return out;
  }

  private problem(p: LoadProblem): void {
    this.problems.push(p);
    const msg = `JetStream stream '${this.name} > ${p.stream}': ${p.message}`;
    if (p.fatal) this.logger.error(msg);
    else this.logger.warn(msg);
  }

  async shutdown(): Promise<void> {
    for (const e of this.entries.values()) await e.sourcing?.close();
    for (const e of this.entries.values()) {
      for (const s of e.direct) this.client.unsubscribe(s);
      await e.stream.close().catch((err: Error) => {
        this.logger.error(`JetStream stream '${e.stream.name}': close failed: ${err.message}`);
      });
    }
    this.entries.clear();
  }

  // ---- create / update / delete --------------------------------------------------------------------

  /** STREAM.CREATE with a decoded body; returns the stream and whether it was created now. */
  async create(body: Record<string, unknown>): Promise<{ stream: Stream; created: boolean }> {
    const config = normalizeConfig(decodeStreamConfig(body), body.pedantic === true);
    const existing = this.entries.get(config.name);
    if (existing !== undefined) {
      if (configKey(existing.stream.config) === configKey(config))
        return { stream: existing.stream, created: false };
      throw apiError("StreamNameExist");
    }
    if (config.num_replicas > 1) throw apiError("StreamReplicasNotSupported");
    checkCreate(config);
    this.checkAccount(config, undefined);
    const created = BigInt(Date.now()) * 1_000_000n;
    let dir: string | undefined;
    let store: MessageStore;
    try {
      if (config.storage === "file") {
        dir = join(this.streamsDir, config.name);
        this.setAsideLeftovers(config.name, dir);
        store = await createStreamDir(dir, created, config, this.opts.syncIntervalMs);
      } else {
        store = await openStore(config, undefined, 0);
      }
    } catch (err) {
      throw apiErrorText("StreamCreate", (err as Error).message);
    }
    const stream = this.register(config, store, created, dir);
    for (const e of this.entries.values()) e.sourcing?.attachAll();
    this.advisories.streamAction(config.name, "create");
    return { stream, created: true };
  }

  /** A directory for a stream that is not loaded is one that failed to load: keep it, out of the way. */
  private setAsideLeftovers(name: string, dir: string): void {
    const aside = setAside(dir, join(this.opts.root, this.name, "damaged"), name);
    if (aside === undefined) return;
    this.logger.warn(`JetStream stream '${this.name} > ${name}': unloadable data moved to ${aside}`);
    const i = this.problems.findIndex((p) => p.stream === name && p.fatal);
    if (i >= 0) this.problems.splice(i, 1);
  }

  private register(
    config: StreamConfig,
    store: MessageStore,
    created: bigint,
    dir: string | undefined,
  ): Stream {
    const stream = new Stream(config, store, created, this);
    const entry: Entry = { stream, sourcing: undefined, dir, direct: [] };
    this.entries.set(config.name, entry);
    stream.start();
    attachConsumers(stream, this, dir);
    if (config.mirror || config.sources?.length) entry.sourcing = new Sourcing(stream, this, dir);
    this.syncDirect(entry);
    return stream;
  }

  async update(name: string, body: Record<string, unknown>): Promise<Stream> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw apiError("StreamNotFound");
    const next = normalizeConfig(decodeStreamConfig(body), body.pedantic === true);
    checkUpdate(entry.stream.config, next);
    if (next.num_replicas > 1) throw apiError("StreamReplicasNotSupported");
    this.checkAccount(next, name);
    if (entry.dir !== undefined) {
      try {
        saveDefinition(entry.dir, entry.stream.created, next);
      } catch (err) {
        throw apiErrorText(
          "StreamGeneralError",
          `could not persist the new config: ${(err as Error).message}`,
        );
      }
    }
    entry.stream.update(next);
    if (next.mirror || next.sources?.length) {
      if (entry.sourcing === undefined) entry.sourcing = new Sourcing(entry.stream, this, entry.dir);
      else entry.sourcing.sync();
    } else if (entry.sourcing !== undefined) {
      entry.sourcing.stop();
      entry.sourcing = undefined;
    }
    this.syncDirect(entry);
    this.advisories.streamAction(name, "modify");
    return entry.stream;
  }

  async delete(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw apiError("StreamNotFound");
    this.entries.delete(name);
    entry.sourcing?.stop();
    for (const s of entry.direct) this.client.unsubscribe(s);
    await entry.stream.destroy();
    if (entry.dir !== undefined) rmSync(entry.dir, { recursive: true, force: true });
    this.advisories.streamAction(name, "delete");
  }

  /**
   * Account-wide rules: subject overlap with other streams, the account's limits (stream count, max bytes
   * required and allowed, reservations), server resources, source cycles. `updating` names the stream
   * being updated.
   */
  private checkAccount(config: StreamConfig, updating: string | undefined): void {
    const { limits: l, tier } = this.selectLimits(config);
    const memory = config.storage === "memory";
    const maxStreamBytes = memory ? l.memory_max_stream_bytes : l.storage_max_stream_bytes;
    if (l.max_bytes_required && config.max_bytes <= 0) throw apiError("StreamMaxBytesRequired");
    if (maxStreamBytes > 0 && config.max_bytes > maxStreamBytes)
      throw apiError("StreamMaxStreamBytesExceeded");
    const sameTier = (c: StreamConfig) => tier === "" || c.num_replicas === config.num_replicas;
    const others = [...this.entries.values()]
      .map((e) => e.stream.config)
      .filter((c) => c.name !== config.name);
    if (updating === undefined && l.max_streams > 0 && others.filter(sameTier).length >= l.max_streams) {
      throw apiError("MaximumStreamsLimit");
    }
    if (config.max_consumers > 0 && l.max_consumers > 0 && config.max_consumers > l.max_consumers) {
      throw apiError("MaximumConsumersLimit");
    }
    // Reservations: the max_bytes of the account's other streams of this storage (and tier), plus this one.
    const account = memory ? l.max_memory : l.max_storage;
    if (account >= 0) {
      let reserved = 0;
      for (const c of others) {
        if (c.max_bytes > 0 && c.storage === config.storage && sameTier(c)) reserved += c.max_bytes;
      }
      const old = updating === undefined ? undefined : this.entries.get(updating)?.stream.config;
      const total =
        old === undefined
          ? reserved + (config.max_bytes > 0 ? config.max_bytes : 1)
          : reserved + old.max_bytes + Math.max(0, config.max_bytes - old.max_bytes);
      if (total > account) {
        throw apiError(memory ? "MemoryResourcesExceeded" : "StorageResourcesExceeded");
      }
    }
    for (const e of this.entries.values()) {
      if (e.stream.name === updating) continue;
      for (const s of config.subjects ?? []) {
        if ((e.stream.config.subjects ?? []).some((o) => subjectsCollide(o, s))) {
          throw apiError("StreamSubjectOverlap");
        }
      }
    }
    const server = memory ? this.opts.maxMemory : this.opts.maxStore;
    if (config.max_bytes > 0 && server > 0 && config.max_bytes > server) {
      throw apiError(memory ? "MemoryResourcesExceeded" : "StorageResourcesExceeded");
    }
    if (this.formsCycle(config)) throw apiErrorText("StreamInvalidConfig", "detected cycle");
  }

  /** Does following mirror/source origins from `config` lead back to it? */
  private formsCycle(config: StreamConfig): boolean {
    const origins = (c: StreamConfig) =>
      [...(c.mirror ? [c.mirror] : []), ...(c.sources ?? [])].map((s) => s.name);
    const seen = new Set<string>();
    const todo = origins(config);
    while (todo.length > 0) {
      const n = todo.pop()!;
      if (n === config.name) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      const s = this.entries.get(n)?.stream;
      if (s !== undefined) todo.push(...origins(s.config));
    }
    return false;
  }

  /** Direct-get responders follow allow_direct / mirror_direct. */
  private syncDirect(entry: Entry): void {
    for (const sub of entry.direct) this.client.unsubscribe(sub);
    entry.direct = directResponders(this.client, entry.stream, this.localApis);
  }
}

function toLimitSet(l: AccountLimits | JsLimitSet): JsLimitSet {
  return "tiers" in l ? l : { default: l, tiers: {} };
}
