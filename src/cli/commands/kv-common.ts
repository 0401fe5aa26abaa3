// What every `lattice kv` command shares: opening a bucket, and showing entries and bucket status.

import { JetStreamApiError } from "@nats-io/jetstream";
import type { KV, KvEntry, KvStatus } from "@nats-io/kv";
import { bucketStream, KV_BUCKET, metadataRows, storageName } from "../buckets.js";
import type { Session } from "../connect-options.js";
import { CliError } from "../errors.js";
import { bodyJson } from "../messages.js";
import {
  color,
  displayBody,
  humanBytes,
  humanCount,
  humanDuration,
  humanTime,
  note,
  out,
  printJson,
  printSections,
  type Section,
} from "../output.js";

/** JetStream's "wrong last sequence" error: a compare-and-set on a key lost. */
export const WRONG_LAST_SEQUENCE = 10071;

/**
 * A lost compare-and-set (create of an existing key, update from a stale revision) as one line that says what
 * happened to the key, keeping the server's description and code.
 */
export function casFailure(err: unknown, what: string): unknown {
  if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
    const api = err.apiError();
    return new CliError(`${what} (${api.description}; JetStream error ${api.err_code}, status ${api.code})`);
  }
  return err;
}

/** Open a bucket after checking it exists, so a typo is "bucket not found", not a timeout or no-responders. */
export async function openBucket(s: Session, bucket: string): Promise<KV> {
  const si = await bucketStream(s, KV_BUCKET, bucket);
  const kvm = await s.kvm();
  return kvm.open(bucket, { allow_direct: si.config.allow_direct === true });
}

export function entryJson(e: KvEntry): Record<string, unknown> {
  return {
    bucket: e.bucket,
    key: e.key,
    revision: e.revision,
    operation: e.operation,
    created: e.created.toISOString(),
    length: e.length,
    ...bodyJson(e.value, "value"),
    delta: e.delta,
  };
}

export function statusJson(st: KvStatus): Record<string, unknown> {
  return {
    bucket: st.bucket,
    description: st.description,
    values: st.values,
    size: st.size,
    history: st.history,
    ttl_ms: st.ttl,
    max_bytes: st.max_bytes,
    max_value_size: st.maxValueSize,
    storage: st.storage,
    replicas: st.replicas,
    compression: st.compression,
    metadata: st.metadata,
    stream_info: st.streamInfo,
  };
}

export function kvStatusSections(st: KvStatus): Section[] {
  const si = st.streamInfo;
  return [
    {
      title: "Configuration",
      rows: [
        ["Bucket Name", st.bucket],
        st.description ? ["Description", st.description] : undefined,
        ["History Kept", humanCount(st.history)],
        ["Values Stored", humanCount(st.values)],
        ["Size", humanBytes(st.size)],
        ["TTL", st.ttl > 0 ? humanDuration(st.ttl) : "forever"],
        ["Maximum Bucket Size", humanBytes(st.max_bytes)],
        ["Maximum Value Size", humanBytes(st.maxValueSize)],
        ["Storage", storageName(st.storage)],
        ["Replicas", st.replicas],
        ["Compressed", String(st.compression === true)],
        ["Backing Stream", si.config.name],
        si.config.allow_direct ? ["Direct Get", "true"] : undefined,
        si.config.republish
          ? ["Republishing", `${si.config.republish.src} -> ${si.config.republish.dest}`]
          : undefined,
        si.config.sealed ? ["Sealed", "true"] : undefined,
        ...metadataRows(st.metadata),
      ],
    },
    {
      title: "State",
      rows: [
        ["First Sequence", humanCount(si.state.first_seq)],
        ["Last Sequence", humanCount(si.state.last_seq)],
        ["Last Update", si.state.last_seq > 0 ? humanTime(si.state.last_ts) : "never"],
      ],
    },
  ];
}

export function printStatus(st: KvStatus): void {
  out(
    color.bold(
      `Information for Key-Value Store Bucket ${st.bucket} created ${humanTime(st.streamInfo.created)}`,
    ),
  );
  out();
  printSections(kvStatusSections(st));
}

export function printEntry(e: KvEntry, opts: { raw?: boolean; json?: boolean }): void {
  if (opts.json) {
    printJson(entryJson(e));
    return;
  }
  if (opts.raw) {
    process.stdout.write(e.value);
    out();
    return;
  }
  out(color.bold(`${e.bucket} > ${e.key} revision: ${e.revision} created @ ${humanTime(e.created)}`));
  out();
  out(displayBody(e.value));
}

export async function printKeys(s: Session, bucket: string, filters: string[], json: boolean): Promise<void> {
  const b = await openBucket(s, bucket);
  const found: string[] = [];
  const iter = await b.keys(filters.length > 0 ? filters : undefined);
  for await (const k of iter) found.push(k);
  found.sort();
  if (json) {
    printJson(found);
    return;
  }
  if (found.length === 0) {
    note(`No keys found in bucket ${bucket}`);
    return;
  }
  for (const k of found) out(k);
}
