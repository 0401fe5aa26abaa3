// A consumer's persistence. The store keeps the consumer's delivery state and changes it through
// operations, as nats-server's consumer store does: a delivery (`updateDelivered`) and an ack
// (`updateAcks`), which a replicated consumer can ship to its followers for them to apply, and a
// whole-state `update` for everything else. The memory store only keeps the state; the file store
// (file-consumer-store.ts) also writes it to disk. Stored consumers are found with `listStoredConsumers`.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseRfc3339 } from "../json.js";
import { readMeta } from "../meta-file.js";
import { type ConsumerConfig, configFromDisk } from "./config.js";
import { ConsumerState, type PendingEntry } from "./state.js";
import { encodeConsumerState } from "./state-codec.js";

export const CONSUMERS_DIR = "obs";

/** What a consumer needs from its persistence. */
export interface ConsumerStore {
  readonly durable: boolean;
  /**
   * The state the store keeps: the live object, not a copy, so the delivery path reads it for free.
   * Change it only through the operations below; after `update` with another object, read it again.
   */
  state(): ConsumerState;
  /** Consumer sequence `dseq` delivered stream sequence `sseq` for the `deliveryCount`-th time at `ts` (ms). */
  updateDelivered(dseq: number, sseq: number, deliveryCount: number, ts: number): PendingEntry | undefined;
  /** An ack of `sseq` (consumer sequence `dseq`), as the ack policy reads it; false when it acked nothing. */
  updateAcks(dseq: number, sseq: number): boolean;
  /** The state changed other than by the operations above (or is replaced by `state`): store all of it. */
  update(state: ConsumerState): void;
  /** The config changed (or is being stored for the first time). */
  updateConfig(created: bigint, config: ConsumerConfig): void;
  /** The state as a versioned, checksummed binary record (state-codec.ts). */
  encodedState(): Uint8Array;
  /** Resolves once every change made so far is on disk. */
  saved(): Promise<void>;
  /** Stop writing; with `saveFinal`, write the state synchronously first (clean shutdown). */
  close(saveFinal?: boolean): void;
  /** Remove everything stored. */
  remove(): void;
}

/** The operations, shared by both stores; `changed` is where a store learns it has something to write. */
export abstract class StateKeeper implements ConsumerStore {
  abstract readonly durable: boolean;
  protected st = new ConsumerState();
  private policy: ConsumerConfig["ack_policy"];

  constructor(config: ConsumerConfig) {
    this.policy = config.ack_policy;
  }

  protected abstract changed(): void;
  protected abstract persistConfig(created: bigint, config: ConsumerConfig): void;
  abstract saved(): Promise<void>;
  abstract close(saveFinal?: boolean): void;
  abstract remove(): void;

  state(): ConsumerState {
    return this.st;
  }

  updateDelivered(dseq: number, sseq: number, deliveryCount: number, ts: number): PendingEntry | undefined {
    const p = this.st.delivered(dseq, sseq, deliveryCount, ts, this.policy === "none");
    this.changed();
    return p;
  }

  updateAcks(dseq: number, sseq: number): boolean {
    if (this.policy === "none") return false;
    if (!this.st.acked(dseq, sseq, this.policy)) return false;
    this.changed();
    return true;
  }

  update(state: ConsumerState): void {
    this.st = state;
    this.changed();
  }

  updateConfig(created: bigint, config: ConsumerConfig): void {
    this.policy = config.ack_policy;
    this.persistConfig(created, config);
  }

  encodedState(): Uint8Array {
    return encodeConsumerState(this.st);
  }
}

export class MemoryConsumerStore extends StateKeeper {
  readonly durable = false;
  protected changed(): void {}
  protected persistConfig(): void {}
  saved(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
  remove(): void {}
}

export interface StoredConsumer {
  name: string;
  dir: string;
  created: bigint;
  config: ConsumerConfig;
  sumOk: boolean;
}

/** List the consumers stored under a stream directory (unreadable ones are reported through `bad`). */
export function listStoredConsumers(
  streamDir: string,
  bad: (name: string, err: Error) => void,
): StoredConsumer[] {
  const root = join(streamDir, CONSUMERS_DIR);
  if (!existsSync(root)) return [];
  const out: StoredConsumer[] = [];
  for (const d of readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(root, d.name);
    try {
      const { meta, sumOk } = readMeta(dir);
      const config = configFromDisk(meta.config);
      const created = parseRfc3339(String(meta.created)) ?? BigInt(Date.now()) * 1_000_000n;
      out.push({ name: d.name, dir, created, config, sumOk });
    } catch (err) {
      bad(d.name, err as Error);
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
