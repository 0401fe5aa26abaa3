// Mirrors and sources between streams of this server. A feed follows its origin stream: it reads from the
// origin's store from its next sequence onward (catch-up and live alike: an append only wakes it up), maps
// the subject through the configured filter/transforms and stores into the target stream. A mirror keeps
// the origin's sequences and timestamps; a source appends and tags each message `Nats-Stream-Source:
// <id> <origin seq>`, which is how a restart finds where each source left off (helped by a small
// `sources.json` checkpoint so the scan is short).

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InternalClient } from "../server/internal-client.js";
import { subjectMatches } from "../subjects/pattern.js";
import { type ApiErrorBody, apiError } from "./api-errors.js";
import { sourceKey } from "./config-check.js";
import { appendHeaders, Hdr, mayHaveHeader, parseHeaders } from "./headers.js";
import { RemoteFeed } from "./remote-feed.js";
import { type Stream, type StreamObserver, storeFailure } from "./stream.js";
import type { StreamSourceConfig } from "./stream-config.js";
import { SubjectTransform } from "./subject-transform.js";

const BATCH = 512;
const RETRY_MS = 1000;
const CHECKPOINT_MS = 1000;
const CHECKPOINT_FILE = "sources.json";

/** How feeds find origin streams in the same account. */
export interface StreamLookup {
  stream(name: string): Stream | undefined;
  /** API prefixes that mean "this account on this server" ($JS.API, $JS.<domain>.API). */
  readonly localApis: readonly string[];
  /** The account's internal client, for origins behind another API (`external.api`). */
  readonly client?: InternalClient;
}

interface Checkpoint {
  /** Next origin sequence per source id. */
  next: Record<string, number>;
  /** Target last sequence when written: messages after it are scanned on load. */
  at: number;
}

/** Short, stable id of a source inside `Nats-Stream-Source` (the name when that is unambiguous). */
function sourceId(s: StreamSourceConfig): string {
  const key = sourceKey(s);
  if (key === s.name) return s.name;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return `${s.name}:${(h >>> 0).toString(36)}`;
}

class Feed implements StreamObserver {
  readonly id: string;
  private origin: Stream | undefined;
  /** The origin is behind another JetStream API (another domain): followed through a consumer there. */
  private remote: RemoteFeed | undefined;
  private unobserve: (() => void) | undefined;
  private readonly filters: string[] | undefined;
  private readonly transforms: { t: SubjectTransform | undefined; src: string }[] = [];
  /** Next origin sequence to copy; 0 until resolved against the origin. */
  next: number;
  private lastActive = 0;
  private error: ApiErrorBody | undefined;
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly cfg: StreamSourceConfig,
    private readonly target: Stream,
    private readonly mirror: boolean,
    private readonly lookup: StreamLookup,
    next: number,
    private readonly progressed: () => void,
  ) {
    this.id = sourceId(cfg);
    this.next = next;
    if (cfg.subject_transforms?.length) {
      for (const tr of cfg.subject_transforms) {
        const src = tr.src || ">";
        this.transforms.push({ t: tr.dest ? SubjectTransform.create(src, tr.dest) : undefined, src });
      }
      this.filters = this.transforms.map((x) => x.src);
    } else if (cfg.filter_subject && cfg.filter_subject !== ">") {
      this.filters = [cfg.filter_subject];
    }
  }

  /** Find the origin (again) and start following it. */
  attach(): void {
    if (this.stopped || this.origin !== undefined || this.remote !== undefined) return;
    const ext = this.cfg.external;
    if (ext !== undefined && ext.api !== "" && !this.lookup.localApis.includes(ext.api.replace(/\.$/, ""))) {
      const client = this.lookup.client;
      if (client === undefined) {
        this.error = apiError("NotSupported", { feature: `sourcing through external API '${ext.api}'` }).body;
        return;
      }
      this.remote = new RemoteFeed(
        this.id,
        this.cfg,
        this.target,
        this.mirror,
        { client },
        this.next,
        this.filters,
        (s) => this.mapSubject(s),
        this.progressed,
      );
      this.remote.start();
      return;
    }
    const origin = this.lookup.stream(this.cfg.name);
    if (origin === undefined || origin.closed) {
      this.error = apiError("StreamNotFound").body;
      return;
    }
    this.origin = origin;
    this.error = undefined;
    this.lastActive = Date.now();
    if (this.next === 0) this.next = this.startSeq(origin);
    this.unobserve = origin.observe(this);
    this.schedule();
  }

  private startSeq(origin: Stream): number {
    if (this.cfg.opt_start_seq) return this.cfg.opt_start_seq;
    if (this.cfg.opt_start_time) return origin.store.seqForTime(Date.parse(this.cfg.opt_start_time));
    return 1;
  }

  appended(): void {
    this.schedule();
  }

  purged(): void {
    this.schedule();
  }

  closed(): void {
    this.unobserve = undefined;
    this.origin = undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.retry !== undefined) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const origin = this.origin;
    if (this.stopped || this.target.closed || origin === undefined) return;
    if (origin.closed) {
      this.closed();
      return;
    }
    let copied = 0;
    while (copied < BATCH) {
      const m = origin.next(this.next, this.filters);
      if (m === undefined) break;
      const subject = this.mapSubject(m.subject);
      try {
        if (this.mirror) {
          if (m.seq > this.target.store.state().lastSeq) {
            this.target.appendSourced(subject, m.headers, m.data, { seq: m.seq, timeNs: m.timeNs });
          }
        } else {
          const hdrs = appendHeaders(m.headers, [[Hdr.StreamSource, `${this.id} ${m.seq}`]]);
          this.target.appendSourced(subject, hdrs, m.data);
        }
      } catch (err) {
        this.error = storeFailure(err).body;
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.schedule();
        }, RETRY_MS);
        this.retry.unref?.();
        break;
      }
      this.error = undefined;
      this.next = m.seq + 1;
      copied++;
    }
    this.lastActive = Date.now();
    if (copied > 0) this.progressed();
    if (copied === BATCH) this.schedule();
  }

  private mapSubject(subject: string): string {
    for (const x of this.transforms) {
      if (x.t === undefined) {
        if (subjectMatches(x.src, subject)) return subject;
      } else {
        const out = x.t.apply(subject);
        if (out !== undefined) return out;
      }
    }
    return subject;
  }

  /** Where the feed resumes (the next origin sequence), for checkpoints. */
  get position(): number {
    return this.remote?.next ?? this.next;
  }

  /** Source/mirror info as StreamInfo shows it. */
  info(): Record<string, unknown> {
    const o: Record<string, unknown> = { name: this.cfg.name };
    if (this.cfg.external) o.external = { ...this.cfg.external };
    if (this.remote !== undefined) {
      if (this.cfg.filter_subject) o.filter_subject = this.cfg.filter_subject;
      this.remote.info(o);
      return o;
    }
    const origin = this.origin;
    const lag = origin && this.next > 0 ? origin.store.numPending(this.next, this.filters) : 0;
    // Following a live origin with nothing left to copy counts as activity (nats-server's feeds heartbeat).
    if (origin !== undefined && lag === 0 && this.error === undefined) this.lastActive = Date.now();
    o.lag = lag;
    o.active = origin !== undefined ? (Date.now() - this.lastActive) * 1_000_000 : -1;
    if (this.cfg.filter_subject) o.filter_subject = this.cfg.filter_subject;
    if (this.cfg.subject_transforms?.length)
      o.subject_transforms = this.cfg.subject_transforms.map((t) => ({ ...t }));
    if (this.error) o.error = { ...this.error };
    return o;
  }

  stop(): void {
    this.stopped = true;
    this.remote?.stop();
    this.remote = undefined;
    this.unobserve?.();
    this.unobserve = undefined;
    this.origin = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }
}

/** The feeds of one stream (its mirror, or its sources), kept in step with its config. */
export class Sourcing {
  private mirror: Feed | undefined;
  private readonly sources = new Map<string, Feed>();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private resumeAt: Record<string, number> = {};

  constructor(
    private readonly target: Stream,
    private readonly lookup: StreamLookup,
    /** Stream directory for the checkpoint (file streams), or undefined. */
    private readonly dir: string | undefined,
  ) {
    this.resumeAt = this.recover();
    this.sync();
  }

  /** Create/drop feeds to match the target's current config. */
  sync(): void {
    const c = this.target.config;
    if (c.mirror) {
      if (this.mirror === undefined) {
        const last = this.target.store.state().lastSeq;
        this.mirror = new Feed(c.mirror, this.target, true, this.lookup, last > 0 ? last + 1 : 0, () =>
          this.progressed(),
        );
      }
    } else if (this.mirror !== undefined) {
      this.mirror.stop();
      this.mirror = undefined;
    }
    const want = new Map<string, StreamSourceConfig>();
    for (const s of c.sources ?? []) want.set(sourceKey(s), s);
    for (const [k, f] of this.sources) {
      if (!want.has(k)) {
        f.stop();
        this.sources.delete(k);
      }
    }
    for (const [k, s] of want) {
      if (this.sources.has(k)) continue;
      const f = new Feed(s, this.target, false, this.lookup, 0, () => this.progressed());
      f.next = this.resumeAt[f.id] ?? 0;
      this.sources.set(k, f);
    }
    this.attachAll();
  }

  /** A stream appeared (or came back): feeds waiting for it can start. */
  attachAll(): void {
    this.mirror?.attach();
    for (const f of this.sources.values()) f.attach();
  }

  mirrorInfo(): Record<string, unknown> | undefined {
    return this.mirror?.info();
  }

  sourcesInfo(): Record<string, unknown>[] | undefined {
    if (this.sources.size === 0) return undefined;
    return [...this.sources.values()].map((f) => f.info());
  }

  private progressed(): void {
    if (this.dir === undefined || this.sources.size === 0 || this.checkpointTimer !== undefined) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      void this.checkpoint();
    }, CHECKPOINT_MS);
    this.checkpointTimer.unref?.();
  }

  /** Record where each source is, once what it copied is durable. */
  private async checkpoint(): Promise<void> {
    if (this.dir === undefined || this.target.closed) return;
    const cp: Checkpoint = { next: {}, at: this.target.store.state().lastSeq };
    for (const f of this.sources.values()) if (f.position > 0) cp.next[f.id] = f.position;
    try {
      await this.target.whenDurable();
      if (!this.target.closed) {
        const file = join(this.dir, CHECKPOINT_FILE);
        writeFileSync(`${file}.tmp`, JSON.stringify(cp));
        renameSync(`${file}.tmp`, file);
      }
    } catch {
      // A missed checkpoint only makes the next start scan further.
    }
  }

  /** Where each source resumes: the checkpoint, then every tagged message stored after it. */
  private recover(): Record<string, number> {
    const c = this.target.config;
    if (!c.sources?.length) return {};
    let cp: Checkpoint = { next: {}, at: 0 };
    if (this.dir !== undefined && existsSync(join(this.dir, CHECKPOINT_FILE))) {
      try {
        cp = JSON.parse(readFileSync(join(this.dir, CHECKPOINT_FILE), "utf8")) as Checkpoint;
      } catch {
        cp = { next: {}, at: 0 };
      }
    }
    const next = { ...cp.next };
    const store = this.target.store;
    for (let m = store.getNext(cp.at + 1); m !== undefined; m = store.getNext(m.seq + 1)) {
      if (m.headers === undefined || !mayHaveHeader(m.headers, Hdr.StreamSource)) continue;
      const entries = parseHeaders(m.headers).entries.filter(([k]) => k === Hdr.StreamSource);
      const v = entries.at(-1)?.[1];
      if (v === undefined) continue;
      const sp = v.lastIndexOf(" ");
      const seq = Number(v.slice(sp + 1));
      if (sp > 0 && Number.isSafeInteger(seq)) next[v.slice(0, sp)] = seq + 1;
    }
    return next;
  }

  stop(): void {
    if (this.checkpointTimer) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = undefined;
    }
    this.mirror?.stop();
    for (const f of this.sources.values()) f.stop();
  }

  /** Stop, writing a final checkpoint (shutdown). */
  async close(): Promise<void> {
    this.stop();
    await this.checkpoint();
  }
}
