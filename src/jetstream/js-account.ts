// JetStream for one account: its streams, where they live on disk
// (`<store>/jetstream/<account>/streams/<name>/`: meta.inf + meta.sum, `msgs/` for the file store), the
// account-wide rules for creating, updating and deleting streams (subject overlap, limits, source cycles),
// and the direct-get responders of streams that allow them. Admin operations run one at a time.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../logger.js";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";
import { subjectsCollide } from "../subjects/pattern.js";
import { Advisories } from "./advisories.js";
import { apiError, apiErrorText } from "./api-errors.js";
import { serveDirectGet } from "./api/direct-get.js";
import { checkCreate, checkUpdate, normalizeConfig } from "./config-check.js";
import { parseRfc3339, rfc3339 } from "./json.js";
import { readMeta, writeMeta } from "./meta-file.js";
import { Sourcing, type StreamLookup } from "./sourcing.js";
import { FileStore, MemoryStore, type MessageStore, type StoreProblem } from "./store/index.js";
import { Stream, type StreamHost, storeLimits } from "./stream.js";
import { type StreamConfig, configJson, configKey, decodeStreamConfig } from "./stream-config.js";

/** Account limits as $JS.API.INFO reports them; -1 = unlimited. */
export interface AccountLimits {
  max_memory: number;
  max_storage: number;
  max_streams: number;
  max_consumers: number;
  max_ack_pending: number;
  memory_max_stream_bytes: number;
  storage_max_stream_bytes: number;
  max_bytes_required: boolean;
}

export const UNLIMITED: AccountLimits = {
  max_memory: -1,
  max_storage: -1,
  max_streams: -1,
  max_consumers: -1,
  max_ack_pending: -1,
  memory_max_stream_bytes: -1,
  storage_max_stream_bytes: -1,
  max_bytes_required: false,
};

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
  limits?: AccountLimits;
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
  readonly limits: AccountLimits;
  readonly localApis: readonly string[];
  readonly api = { total: 0, errors: 0 };
  readonly problems: LoadProblem[] = [];
  readonly advisories: Advisories;
  private readonly entries = new Map<string, Entry>();
  private readonly streamsDir: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AccountOptions) {
    this.name = opts.name;
    this.client = opts.client;
    this.logger = opts.logger;
    this.domain = opts.domain;
    this.limits = opts.limits ?? UNLIMITED;
    this.localApis = opts.apiPrefixes;
    this.streamsDir = join(opts.root, opts.name, "streams");
    this.advisories = new Advisories(opts.client, opts.serverName, opts.name, opts.domain);
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

  usage(): { memory: number; storage: number; streams: number; consumers: number; messages: number; bytes: number } {
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
        this.problem({ stream: name, fatal: true, message: `could not load stream: ${(err as Error).message}` });
      }
    }
    for (const e of this.entries.values()) e.sourcing?.attachAll();
  }

  private async loadOne(name: string, dir: string): Promise<void> {
    const { meta, sumOk } = readMeta(dir);
    const config = normalizeConfig(decodeStreamConfig(meta.config));
    if (config.name !== name) throw new Error(`meta.inf names stream '${config.name}'`);
    const created = parseRfc3339(meta.created) ?? BigInt(Date.now()) * 1_000_000n;
    if (!sumOk) {
      this.problem({ stream: name, fatal: false, message: "meta.sum missing or not matching meta.inf; rewritten" });
      writeMeta(dir, { created: rfc3339(created), config: configJson(config) });
    }
    const store = await FileStore.open({
      dir: join(dir, "msgs"),
      firstSeq: config.first_seq,
      limits: storeLimits(config),
      syncIntervalMs: this.opts.syncIntervalMs,
    });
    const problems = store.problems();
    if (problems.length > 0) {
      this.problem({
        stream: name,
        fatal: false,
        store: problems,
        message: `store damage found: ${problems.length} problem(s), first: ${problems[0].message}`,
      });
    }
    const st = store.state();
    this.logger.info(
      `  Restored ${st.messages} messages for stream '${this.name} > ${name}' in ${config.storage} storage`,
    );
    this.register(config, store, created, dir);
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
    const config = normalizeConfig(decodeStreamConfig(body));
    const existing = this.entries.get(config.name);
    if (existing !== undefined) {
      if (configKey(existing.stream.config) === configKey(config)) return { stream: existing.stream, created: false };
      throw apiError("StreamNameExist");
    }
    if (config.num_replicas > 1) throw apiError("StreamReplicasNotSupported");
    checkCreate(config);
    this.checkAccount(config, undefined);
    const created = BigInt(Date.now()) * 1_000_000n;
    let dir: string | undefined;
    let store: MessageStore;
    if (config.storage === "file") {
      dir = join(this.streamsDir, config.name);
      this.setAsideLeftovers(config.name, dir);
      try {
        mkdirSync(dir, { recursive: true });
        writeMeta(dir, { created: rfc3339(created), config: configJson(config) });
        store = await FileStore.open({
          dir: join(dir, "msgs"),
          firstSeq: config.first_seq,
          limits: storeLimits(config),
          syncIntervalMs: this.opts.syncIntervalMs,
        });
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw apiErrorText("StreamCreate", (err as Error).message);
      }
    } else {
      store = new MemoryStore({ firstSeq: config.first_seq, limits: storeLimits(config) });
    }
    const stream = this.register(config, store, created, dir);
    for (const e of this.entries.values()) e.sourcing?.attachAll();
    this.advisories.streamAction(config.name, "create");
    return { stream, created: true };
  }

  /** A directory for a stream that is not loaded is one that failed to load: keep it, out of the way. */
  private setAsideLeftovers(name: string, dir: string): void {
    if (!existsSync(dir)) return;
    const aside = join(this.opts.root, this.name, "damaged", `${name}-${Date.now()}`);
    mkdirSync(join(this.opts.root, this.name, "damaged"), { recursive: true });
    renameSync(dir, aside);
    this.logger.warn(`JetStream stream '${this.name} > ${name}': unloadable data moved to ${aside}`);
    const i = this.problems.findIndex((p) => p.stream === name && p.fatal);
    if (i >= 0) this.problems.splice(i, 1);
  }

  private register(config: StreamConfig, store: MessageStore, created: bigint, dir: string | undefined): Stream {
    const stream = new Stream(config, store, created, this);
    const entry: Entry = { stream, sourcing: undefined, dir, direct: [] };
    this.entries.set(config.name, entry);
    stream.start();
    if (config.mirror || config.sources?.length) entry.sourcing = new Sourcing(stream, this, dir);
    this.syncDirect(entry);
    return stream;
  }

  async update(name: string, body: Record<string, unknown>): Promise<Stream> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw apiError("StreamNotFound");
    const next = normalizeConfig(decodeStreamConfig(body));
    checkUpdate(entry.stream.config, next);
    if (next.num_replicas > 1) throw apiError("StreamReplicasNotSupported");
    this.checkAccount(next, name);
    if (entry.dir !== undefined) {
      try {
        writeMeta(entry.dir, { created: rfc3339(entry.stream.created), config: configJson(next) });
      } catch (err) {
        throw apiErrorText("StreamGeneralError", `could not persist the new config: ${(err as Error).message}`);
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

  /** Account-wide rules: subject overlap with other streams, stream count, resources, source cycles. */
  private checkAccount(config: StreamConfig, updating: string | undefined): void {
    for (const e of this.entries.values()) {
      if (e.stream.name === updating) continue;
      for (const s of config.subjects ?? []) {
        if ((e.stream.config.subjects ?? []).some((o) => subjectsCollide(o, s))) {
          throw apiError("StreamSubjectOverlap");
        }
      }
    }
    const l = this.limits;
    if (updating === undefined && l.max_streams > 0 && this.entries.size >= l.max_streams) {
      throw apiError("MaximumStreamsLimit");
    }
    if (l.max_bytes_required && config.max_bytes <= 0) throw apiError("StreamMaxBytesRequired");
    const server = config.storage === "memory" ? this.opts.maxMemory : this.opts.maxStore;
    if (config.max_bytes > 0 && server > 0 && config.max_bytes > server) {
      throw apiError(config.storage === "memory" ? "MemoryResourcesExceeded" : "StorageResourcesExceeded");
    }
    if (this.formsCycle(config)) throw apiErrorText("StreamInvalidConfig", "detected cycle");
  }

  /** Does following mirror/source origins from `config` lead back to it? */
  private formsCycle(config: StreamConfig): boolean {
    const origins = (c: StreamConfig) => [...(c.mirror ? [c.mirror] : []), ...(c.sources ?? [])].map((s) => s.name);
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

  // ---- direct get responders -----------------------------------------------------------------------

  /** Queue subscriptions (group `_sys_`) for a stream's direct gets, and for its origin's with mirror_direct. */
  private syncDirect(entry: Entry): void {
    for (const s of entry.direct) this.client.unsubscribe(s);
    entry.direct = [];
    const c = entry.stream.config;
    if (!c.allow_direct) return;
    const names = [c.name];
    if (c.mirror && c.mirror_direct) names.push(c.mirror.name);
    for (const name of names) {
      for (const prefix of this.localApis) {
        const base = `${prefix}.DIRECT.GET.${name}`;
        const handler = (m: InternalMessage) => serveDirectGet(this.client, entry.stream, m, m.subject.slice(base.length + 1));
        entry.direct.push(this.client.subscribe(base, handler, "_sys_"));
        entry.direct.push(this.client.subscribe(`${base}.>`, handler, "_sys_"));
      }
    }
  }
}
