// What the `lattice object` commands share: opening a store, showing bucket status and object information.

import { Readable } from "node:stream";
import type { ObjectInfo, ObjectStore, ObjectStoreStatus } from "@nats-io/obj";
import { bucketStream, metadataRows, OBJ_BUCKET, storageName } from "../buckets.js";
import type { Session } from "../connect-options.js";
import { headerLines } from "../messages.js";
import { color, humanBytes, humanNanos, humanTime, out, printSections } from "../output.js";

/** Files at least this big get a progress bar (on a terminal). */
export const PROGRESS_MIN = 1024 * 1024;

export async function openStore(s: Session, bucket: string): Promise<ObjectStore> {
  await bucketStream(s, OBJ_BUCKET, bucket);
  return (await s.objm()).open(bucket, false);
}

export function statusJson(st: ObjectStoreStatus): Record<string, unknown> {
  return {
    bucket: st.bucket,
    description: st.description,
    ttl: st.ttl,
    storage: st.storage,
    replicas: st.replicas,
    sealed: st.sealed,
    size: st.size,
    backing_store: st.backingStore,
    compression: st.compression,
    metadata: st.metadata,
    stream_info: st.streamInfo,
  };
}

export function infoJson(i: ObjectInfo): Record<string, unknown> {
  // ObjectInfo from the library is a class with getters: copy the fields explicitly.
  const h: Record<string, string[]> = {};
  if (i.headers) for (const [k, v] of i.headers) h[k] = v;
  return {
    name: i.name,
    bucket: i.bucket,
    description: i.description,
    size: i.size,
    chunks: i.chunks,
    digest: i.digest,
    mtime: i.mtime,
    nuid: i.nuid,
    revision: i.revision,
    deleted: i.deleted,
    options: i.options,
    metadata: i.metadata,
    headers: Object.keys(h).length > 0 ? h : undefined,
  };
}

export function printBucketStatus(st: ObjectStoreStatus): void {
  out(
    color.bold(
      `Information for Object Store Bucket ${st.bucket} created ${humanTime(st.streamInfo.created)}`,
    ),
  );
  out();
  printSections([
    {
      title: "Configuration",
      rows: [
        ["Bucket Name", st.bucket],
        st.description ? ["Description", st.description] : undefined,
        ["Replicas", st.replicas],
        ["TTL", humanNanos(st.ttl, "forever")],
        ["Sealed", String(st.sealed)],
        ["Size", humanBytes(st.size)],
        ["Maximum Bucket Size", humanBytes(st.streamInfo.config.max_bytes)],
        ["Storage", storageName(st.storage)],
        ["Compressed", String(st.compression === true)],
        [
          "Backing Store",
          st.backingStore === "JetStream" ? `JetStream stream ${st.streamInfo.config.name}` : st.backingStore,
        ],
        ...metadataRows(st.metadata),
      ],
    },
  ]);
}

export function printObjectInfo(i: ObjectInfo): void {
  out(color.bold(`Object information for ${i.bucket} > ${i.name}`));
  out();
  const hl = headerLines(i.headers);
  printSections([
    {
      rows: [
        i.description ? ["Description", i.description] : undefined,
        ["Size", humanBytes(i.size)],
        ["Modification Time", humanTime(i.mtime)],
        ["Chunks", i.chunks],
        ["Digest", i.digest],
        ["Revision", i.revision],
        i.options?.link
          ? ["Link", `${i.options.link.bucket}${i.options.link.name ? ` > ${i.options.link.name}` : ""}`]
          : undefined,
        i.deleted ? ["Deleted", "true"] : undefined,
        ...hl.map((l): [string, string] => ["Header", l]),
        ...Object.entries(i.metadata ?? {}).map(([k, v]): [string, string] => [`Metadata ${k}`, v]),
      ],
    },
  ]);
}

/** A web stream over a Node readable that reports how many bytes passed. */
export function countingStream(src: Readable, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  const web = Readable.toWeb(src) as unknown as ReadableStream<Uint8Array>;
  return web.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.length);
        controller.enqueue(chunk);
      },
    }),
  );
}
