// What the kv and object commands share: finding a bucket's backing stream (so a typo is "no such bucket", not a
// timeout), and showing storage, metadata and sizes the same way.

import type { StreamInfo } from "@nats-io/jetstream";
import { JetStreamApiError, StorageType } from "@nats-io/jetstream";
import type { Session } from "./connect-options.js";
import { CliError, STREAM_NOT_FOUND } from "./errors.js";

export type BucketKind = { prefix: "KV_" | "OBJ_"; label: string };
export const KV_BUCKET: BucketKind = { prefix: "KV_", label: "bucket" };
export const OBJ_BUCKET: BucketKind = { prefix: "OBJ_", label: "object store bucket" };

/** The backing stream of a bucket, or "no such bucket" with the server's error code. */
export async function bucketStream(s: Session, kind: BucketKind, bucket: string): Promise<StreamInfo> {
  const jsm = await s.jsm();
  try {
    return await jsm.streams.info(`${kind.prefix}${bucket}`);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) {
      throw new CliError(
        `no such ${kind.label} "${bucket}" (JetStream error ${STREAM_NOT_FOUND}, status 404)`,
      );
    }
    throw err;
  }
}

/** True when the bucket's backing stream exists. */
export async function bucketExists(s: Session, kind: BucketKind, bucket: string): Promise<boolean> {
  return bucketStream(s, kind, bucket).then(
    () => true,
    (err) => {
      if (err instanceof CliError) return false;
      throw err;
    },
  );
}

/** Info rows for user metadata (the library's own `_nats.` entries left out). */
export function metadataRows(md: Record<string, string> | undefined): Array<[string, string]> {
  return Object.entries(md ?? {})
    .filter(([k]) => !k.startsWith("_nats."))
    .map(([k, v]): [string, string] => [`Metadata ${k}`, v]);
}

export function storageName(st: StorageType | string | undefined): string {
  return st === StorageType.Memory ? "Memory" : "File";
}
