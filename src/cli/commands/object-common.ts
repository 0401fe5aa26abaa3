// What the `lattice object` commands share: opening a store, showing bucket status and object information.

import { Readable } from "node:stream";
import type { ObjectInfo, ObjectStore, ObjectStoreLink, ObjectStoreStatus } from "@nats-io/obj";
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

/** `bucket`: the bucket the object is in (a link's own record names its target's bucket). */
export function infoJson(i: ObjectInfo, bucket: string = i.bucket): Record<string, unknown> {
  // ObjectInfo from the library is a class with getters: copy the fields explicitly.
  const h: Record<string, string[]> = {};
  if (i.headers) for (const [k, v] of i.headers) h[k] = v;
  return {
    name: i.name,
    bucket,
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

/** "BUCKET > name" for a link to an object, "BUCKET (whole bucket)" for a link to a store. */
export function linkTarget(link: ObjectStoreLink): string {
  return link.name ? `${link.bucket} > ${link.name}` : `${link.bucket} (whole bucket)`;
}

export function printObjectInfo(i: ObjectInfo, bucket: string = i.bucket): void {
  out(color.bold(`Object information for ${bucket} > ${i.name}`));
  const content = i.options?.link === undefined;
  out();
  const hl = headerLines(i.headers);
  printSections([
    {
      rows: [
        i.description ? ["Description", i.description] : undefined,
        content ? ["Size", humanBytes(i.size)] : undefined,
        i.mtime ? ["Modification Time", humanTime(i.mtime)] : undefined,
        content ? ["Chunks", i.chunks] : undefined,
        content ? ["Digest", i.digest] : undefined,
        ["Revision", i.revision],
        i.options?.link ? ["Link", linkTarget(i.options.link)] : undefined,
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
