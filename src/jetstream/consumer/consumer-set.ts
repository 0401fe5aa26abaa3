// The consumers of one stream: creating (with nats-server's create-or-update rules), updating, deleting and
// listing them, loading the persisted ones, routing acks and flow-control replies to them, telling them
// about stream appends/removals and deliver-subject interest, and applying interest / work-queue
// retention (a message goes once every interested consumer — or the one work-queue consumer — is done).

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Account, InterestChange } from "../../server/account.js";
import type { InternalClient, InternalMessage } from "../../server/internal-client.js";
import type { Subscription } from "../../server/subscription.js";
import { subjectMatches, subjectsCollide } from "../../subjects/pattern.js";
import { apiError, apiErrorText } from "../api-errors.js";
import type { JsAccount } from "../js-account.js";
import type { StoreProblem } from "../store/index.js";
import type { Stream } from "../stream.js";
import { ACK_PREFIX, parseAckPayload, parseAckTail } from "./ack.js";
import { ConsumerAdvisories } from "./advisories.js";
import {
  applyDefaults,
  type ConsumerAction,
  type ConsumerConfig,
  type ConsumerLimits,
  checkConfig,
  checkName,
  cloneConfig,
  configKey,
  DEFAULT_INACTIVE_THRESHOLD_NS,
  filtersOf,
  isDurable,
  isPush,
  updateProblem,
} from "./config.js";
import { Consumer, type ConsumerHost } from "./consumer.js";
import { FileConsumerStore, NO_ACK_LAZY_WRITE_MS } from "./file-consumer-store.js";
import { ConsumerFilterIndex } from "./filter-index.js";
import { CONSUMERS_DIR, type ConsumerStore, listStoredConsumers, MemoryConsumerStore } from "./store.js";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const sets = new WeakMap<Stream, ConsumerSet>();

/** The consumers of a stream (undefined for a stream that has none attached yet). */
export function consumersOf(stream: Stream): ConsumerSet | undefined {
  return sets.get(stream);
}

/**
 * Called by the account for every stream it registers (created or loaded): attaches the consumer set and
 * loads the consumers persisted under the stream's directory.
 */
export function attachConsumers(stream: Stream, account: JsAccount, dir: string | undefined): ConsumerSet {
  let set = sets.get(stream);
  if (set === undefined) {
    set = new ConsumerSet(stream, account, dir);
    sets.set(stream, set);
    set.load();
  }
  return set;
}

function generateName(): string {
  let s = "";
  for (const b of randomBytes(8)) s += BASE62[b % 62];
  return s;
}

export class ConsumerSet implements ConsumerHost {
  readonly client: InternalClient;
  readonly advisories: ConsumerAdvisories;
  private readonly consumers = new Map<string, Consumer>();
  /** The consumers each stored subject concerns (stream events go only to them). */
  private readonly byFilter = new ConsumerFilterIndex<Consumer>();
  /** The message being announced to the consumers it concerns (kept here: no closure per message). */
  private eventSeq = 0;
  private eventSubject = "";
  private readonly kickIfConcerned = (c: Consumer): void => {
    if (c.appended(this.eventSeq, this.eventSubject)) this.toKick.add(c);
  };
  private readonly tellRemoved = (c: Consumer): void => {
    c.removed(this.eventSeq, this.eventSubject);
  };
  /** Ack subscriptions per consumer (`$JS.ACK.<stream>.<consumer>.>`); none for ack-none consumers. */
  private readonly ackSubs = new Map<string, Subscription>();
  private fcSub: Subscription | undefined;
  private unwatchInterest: (() => void) | undefined;
  private readonly foreign = new Map<Account, () => void>();
  private readonly unobserve: () => void;
  private flushScheduled = false;
  private readonly toKick = new Set<Consumer>();
  private awaitingDurable = false;
  readonly problems: StoreProblem[] = [];

  constructor(
    readonly stream: Stream,
    private readonly account: JsAccount,
    private readonly dir: string | undefined,
  ) {
    this.client = account.client;
    this.advisories = new ConsumerAdvisories(account.client, account.domain);
    this.unobserve = stream.observe({
      appended: (seq, subject) => this.appended(seq, subject),
      removed: (seq, subject) => {
        this.eventSeq = seq;
        this.eventSubject = subject;
        this.byFilter.forEach(subject, this.tellRemoved);
      },
      purged: () => {
        for (const c of this.consumers.values()) c.purged();
      },
      closed: () => this.close(),
    });
  }

  get logger() {
    return this.account.logger;
  }

  get(name: string): Consumer | undefined {
    return this.consumers.get(name);
  }

  get size(): number {
    return this.consumers.size;
  }

  /** Consumers sorted by name. */
  list(): Consumer[] {
    return [...this.consumers.keys()].sort().map((n) => this.consumers.get(n)!);
  }

  // ---- create / update / delete ----------------------------------------------------------------------

  private limits(): ConsumerLimits {
    return { accountMaxAckPending: this.account.limits.max_ack_pending };
  }

  /**
   * Create or update per `action`; returns the consumer and whether it was created. Throws the ApiError
   * to answer with (plain update refusals become 10012 with nats-server's text).
   */
  create(
    config: ConsumerConfig,
    action: ConsumerAction,
    pedantic = false,
  ): { consumer: Consumer; created: boolean } {
    const stream = this.stream;
    if (stream.closed) throw apiError("StreamNotFound");
    const lim = this.limits();
    applyDefaults(config, stream.config, lim, pedantic);
    checkConfig(config, stream.config, lim);
    const cname = isDurable(config) ? config.durable_name! : config.name;
    if (cname !== undefined) {
      const existing = this.consumers.get(cname);
      if (existing !== undefined)
        return { consumer: this.updateExisting(existing, config, action), created: false };
    }
    if (action === "update") throw apiError("ConsumerDoesNotExist");
    const sl = stream.config.max_consumers;
    const al = this.account.limits.max_consumers;
    let max = sl;
    if (max <= 0 || (al > 0 && al < max)) max = al;
    if (max > 0 && this.consumers.size >= max) throw apiError("MaximumConsumersLimit");
    if (stream.config.retention === "workqueue" && !config.direct) this.checkWorkQueue(config);
    let name: string;
    if (isDurable(config)) {
      name = config.durable_name!;
      checkName(name, true);
    } else if (config.name !== undefined) {
      name = config.name;
      checkName(name, false);
    } else {
      do name = generateName();
      while (this.consumers.has(name));
      config.name = name;
    }
    const created = BigInt(Date.now()) * 1_000_000n;
    let store: ConsumerStore;
    try {
      store = this.newStore(name, config);
      store.updateConfig(created, config);
    } catch (err) {
      throw apiErrorText("ConsumerStoreFailed", (err as Error).message);
    }
    const c = this.install(name, config, created, store, false);
    this.advisories.action(stream.name, name, "create");
    return { consumer: c, created: true };
  }

  private updateExisting(existing: Consumer, config: ConsumerConfig, action: ConsumerAction): Consumer {
    if (!isDurable(config) && (config.inactive_threshold ?? 0) <= 0) {
      config.inactive_threshold = DEFAULT_INACTIVE_THRESHOLD_NS;
    }
    const cur = existing.config;
    const same = (a: ConsumerConfig) => configKey({ ...a, name: a.name ?? a.durable_name });
    if (action === "create" && same(config) !== same(cur)) throw apiError("ConsumerAlreadyExists");
    const problem = updateProblem(
      { ...cur, name: cur.name ?? cur.durable_name },
      {
        ...config,
        name: config.name ?? config.durable_name,
      },
    );
    if (problem !== undefined) throw apiErrorText("ConsumerCreate", problem);
    if (
      isPush(cur) &&
      cur.deliver_subject !== config.deliver_subject &&
      this.hasInterest(cur.deliver_subject!)
    ) {
      throw apiError("ConsumerNameExist");
    }
    if (configKey(cur) === configKey(config)) return existing;
    existing.update(cloneConfig(config));
    this.byFilter.set(existing, filtersOf(existing.config));
    try {
      existing.store.updateConfig(existing.created, existing.config);
    } catch (err) {
      this.logger.error(
        `JetStream consumer '${this.stream.name} > ${existing.name}': could not persist config: ${(err as Error).message}`,
      );
    }
    return existing;
  }

  private checkWorkQueue(config: ConsumerConfig): void {
    if (config.ack_policy !== "explicit") throw apiError("ConsumerWQRequiresExplicitAck");
    const subjects = filtersOf(config);
    if (this.consumers.size > 0) {
      if (subjects.length === 0) throw apiError("ConsumerWQMultipleUnfiltered");
      for (const other of this.consumers.values()) {
        const of = other.filters;
        if (of.length === 0) throw apiError("ConsumerWQConsumerNotUnique");
        for (const a of subjects) {
          for (const b of of) if (subjectsCollide(a, b)) throw apiError("ConsumerWQConsumerNotUnique");
        }
      }
    }
    if (config.deliver_policy !== "all") throw apiError("ConsumerWQConsumerNotDeliverAll");
  }

  private consumerDir(name: string): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, CONSUMERS_DIR, name);
  }

  private newStore(name: string, config: ConsumerConfig): ConsumerStore {
    const dir = this.consumerDir(name);
    if (dir === undefined || config.mem_storage) return new MemoryConsumerStore(config);
    const store = new FileConsumerStore(
      dir,
      config,
      (err) =>
        this.logger.error(
          `JetStream consumer '${this.account.name} > ${this.stream.name} > ${name}': state write failed: ${err.message}`,
        ),
      config.ack_policy === "none" ? NO_ACK_LAZY_WRITE_MS : undefined,
    );
    return store;
  }

  private install(
    name: string,
    config: ConsumerConfig,
    created: bigint,
    store: ConsumerStore,
    restored: boolean,
  ): Consumer {
    const c = new Consumer(this, name, config, created, store, restored);
    this.consumers.set(name, c);
    this.byFilter.set(c, filtersOf(config));
    this.stream.consumerCount = this.consumers.size;
    this.ensureSubscriptions();
    // As nats-server: an ack-none consumer has no ack subscription (a double ack gets no responders).
    if (config.ack_policy !== "none") {
      const old = this.ackSubs.get(name);
      if (old !== undefined) this.client.unsubscribe(old);
      this.ackSubs.set(
        name,
        this.client.subscribe(`${ACK_PREFIX}${this.stream.name}.${name}.>`, (m) => this.onAck(c, m)),
      );
    }
    c.start();
    return c;
  }

  /** Delete a consumer (API or inactivity). */
  delete(name: string): boolean {
    const c = this.consumers.get(name);
    if (c === undefined) return false;
    this.consumers.delete(name);
    this.byFilter.delete(c);
    this.stream.consumerCount = this.consumers.size;
    const ackSub = this.ackSubs.get(name);
    if (ackSub !== undefined) this.client.unsubscribe(ackSub);
    this.ackSubs.delete(name);
    c.stop({ notify: true, saveState: false });
    try {
      c.store.remove();
    } catch (err) {
      this.logger.warn(
        `JetStream consumer '${this.stream.name} > ${name}': remove failed: ${(err as Error).message}`,
      );
    }
    this.advisories.action(this.stream.name, name, "delete");
    if (this.consumers.size === 0) this.dropSubscriptions();
    if (this.stream.config.retention === "interest") this.removeUninterested();
    return true;
  }

  expire(c: Consumer): void {
    if (this.consumers.get(c.name) === c) this.delete(c.name);
  }

  // ---- load / close ---------------------------------------------------------------------------------

  load(): void {
    if (this.dir === undefined) return;
    const stored = listStoredConsumers(this.dir, (name, err) =>
      this.logger.warn(
        `JetStream consumer '${this.account.name} > ${this.stream.name} > ${name}': could not load: ${err.message}`,
      ),
    );
    for (const sc of stored) {
      try {
        const store = this.newStore(sc.name, sc.config);
        const restored = store instanceof FileConsumerStore && store.restored;
        if (store instanceof FileConsumerStore && store.damaged) {
          this.logger.warn(
            `JetStream consumer '${this.stream.name} > ${sc.name}': state file damaged, ${restored ? "using the previous state" : "starting over"}`,
          );
        }
        if (!sc.sumOk) store.updateConfig(sc.created, sc.config);
        this.install(sc.name, sc.config, sc.created, store, restored);
      } catch (err) {
        this.logger.warn(
          `JetStream consumer '${this.stream.name} > ${sc.name}': could not restore: ${(err as Error).message}`,
        );
      }
    }
    if (stored.length > 0) {
      this.logger.info(`  Restored ${this.consumers.size} consumer(s) for stream '${this.stream.name}'`);
      // Acks that were stored before a crash while the message removals were not: finish them now.
      if (this.consumers.size > 0 && this.stream.config.retention !== "limits") this.removeUninterested();
    }
  }

  private close(): void {
    const save = !this.stream.deleting;
    for (const c of this.consumers.values()) c.stop({ notify: !save, saveState: save });
    this.consumers.clear();
    this.byFilter.clear();
    this.dropSubscriptions();
    this.unobserve();
    sets.delete(this.stream);
  }

  // ---- subscriptions --------------------------------------------------------------------------------

  private ensureSubscriptions(): void {
    const s = this.stream.name;
    if (this.fcSub === undefined) {
      this.fcSub = this.client.subscribe(`$JS.FC.${s}.>`, (m) => {
        const t = m.subject.split(".");
        this.consumers.get(t[3] ?? "")?.flowControlReply(m.subject);
      });
    }
    if (this.unwatchInterest === undefined) {
      this.unwatchInterest = this.client.account.onInterest((_a, ch) => this.onInterest(ch));
    }
  }

  private dropSubscriptions(): void {
    for (const sub of this.ackSubs.values()) this.client.unsubscribe(sub);
    this.ackSubs.clear();
    if (this.fcSub !== undefined) this.client.unsubscribe(this.fcSub);
    this.fcSub = undefined;
    this.unwatchInterest?.();
    this.unwatchInterest = undefined;
    for (const off of this.foreign.values()) off();
    this.foreign.clear();
  }

  private onAck(c: Consumer, m: InternalMessage): void {
    const t = parseAckTail(m.subject, ACK_PREFIX.length + this.stream.name.length + 1 + c.name.length);
    if (t === undefined || this.consumers.get(c.name) !== c) return;
    c.processAck(t, parseAckPayload(m.data), m.reply);
  }

  private onInterest(ch: InterestChange): void {
    const pattern = ch.sub.subject;
    for (const c of this.consumers.values()) {
      const ds = c.config.deliver_subject;
      if (ds !== undefined && subjectMatches(pattern, ds)) c.interestChanged();
    }
  }

  hasInterest(subject: string, queue?: string): boolean {
    const r = this.client.account.sublist.match(subject);
    const live = (sub: Subscription): boolean => {
      if (sub.closed) return false;
      const fwd = sub.owner.forwardsTo?.(subject);
      if (fwd === undefined) return true;
      // A stream import: interest is whoever listens in the importing account.
      this.watchAccount(fwd.account);
      const m = fwd.account.sublist.match(fwd.subject);
      return m.plain.length > 0 || m.queues.length > 0;
    };
    if (r.plain.some(live)) return true;
    const any = queue === undefined || queue === "";
    return r.queues.some((members) => members.some((s) => (any || s.queue === queue) && live(s)));
  }

  /** Follow interest changes in an account our deliver subjects are exported to. */
  private watchAccount(account: Account): void {
    if (account === this.client.account || this.foreign.has(account)) return;
    this.foreign.set(
      account,
      account.onInterest(() => {
        for (const c of this.consumers.values())
          if (c.config.deliver_subject !== undefined) c.interestChanged();
      }),
    );
  }

  /** A pull request for one of this stream's consumers; false when there is no such consumer. */
  pull(name: string, reply: string, data: Uint8Array): boolean {
    const c = this.consumers.get(name);
    if (c === undefined) return false;
    c.pullRequest(reply, data);
    return true;
  }

  // ---- stream events and retention ---------------------------------------------------------------------

  private appended(seq: number, subject: string): void {
    if (this.stream.config.retention === "interest" && !this.anyNeeds(seq, subject)) {
      this.removeMessage(seq);
      return;
    }
    this.eventSeq = seq;
    this.eventSubject = subject;
    this.byFilter.forEach(subject, this.kickIfConcerned);
    // Deliver once the message is durable: its PubAck goes out then too, and goes first (as nats-server
    // queues the ack before consumers see the message).
    if (this.toKick.size > 0 && !this.awaitingDurable) {
      this.awaitingDurable = true;
      void this.stream.whenDurable().finally(() => {
        this.awaitingDurable = false;
        for (const c of this.toKick) c.kick();
        this.toKick.clear();
      });
    }
  }

  private anyNeeds(seq: number, subject: string, except?: Consumer): boolean {
    for (const c of this.consumers.values()) if (c !== except && c.needs(seq, subject)) return true;
    return false;
  }

  retire(c: Consumer, seqs: readonly number[]): void {
    const retention = this.stream.config.retention;
    if (retention === "limits") return;
    for (const seq of seqs) {
      if (retention === "workqueue") {
        this.removeMessage(seq);
        continue;
      }
      const msg = this.stream.store.get(seq);
      if (msg !== undefined && !this.anyNeeds(seq, msg.subject, c)) this.removeMessage(seq);
    }
  }

  /** Interest retention after a consumer left: drop what nobody needs any more. */
  private removeUninterested(): void {
    const store = this.stream.store;
    const workQueue = this.stream.config.retention === "workqueue";
    const all = [...this.consumers.values()];
    const doomed: number[] = [];
    for (let m = store.getNext(1); m !== undefined; m = store.getNext(m.seq + 1)) {
      if (this.anyNeeds(m.seq, m.subject)) continue;
      // A work queue keeps what no consumer has taken on yet.
      const subject = m.subject;
      if (workQueue && !all.some((c) => c.matches(subject))) continue;
      doomed.push(m.seq);
    }
    for (const seq of doomed) this.removeMessage(seq);
  }

  private removeMessage(seq: number): void {
    if (this.stream.closed) return;
    if (!this.stream.store.remove(seq)) return;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.stream.store.flush().catch((err: Error) => {
        this.logger.error(`JetStream stream '${this.stream.name}': flush after ack failed: ${err.message}`);
      });
    });
  }
}
