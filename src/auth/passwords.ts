// Secret comparison for passwords and tokens: bcrypt hashes via bcryptjs, plain text in constant time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { bcrypt } from "./lazy-libs.js";

// Same shape nats-server recognises; anything else starting with "$" is a plain-text secret.
const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;

export function isBcrypt(secret: string): boolean {
  return BCRYPT_PREFIX.test(secret);
}

/** Constant-time equality that does not leak the length either (both sides are hashed first). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

const CACHE_LIMIT = 4096;
// Cache keys are keyed MACs, so the cache never holds passwords or fast unsalted hashes of them.
const cacheKeySecret = randomBytes(32);
const verified = new Set<string>();
const inFlight = new Map<string, Promise<boolean>>();

function cacheKey(hash: string, password: string): string {
  return createHmac("sha256", cacheKeySecret).update(hash).update("\0").update(password).digest("base64");
}

/**
 * bcrypt check with a process-wide cache of successful (hash, password) pairs, so a reconnect storm costs
 * one bcrypt run per credential instead of one per connection. Concurrent checks of the same pair share
 * a single run.
 */
async function bcryptMatches(hash: string, password: string): Promise<boolean> {
  const key = cacheKey(hash, password);
  if (verified.has(key)) return true;
  const pending = inFlight.get(key);
  if (pending !== undefined) return pending;
  // bcryptjs rejects the `$2x$` revision, which nats-server (Go bcrypt) accepts and hashes like `$2a$`.
  const normalized = hash.startsWith("$2x$") ? `$2a$${hash.slice(4)}` : hash;
  const run = bcrypt()
    .compare(password, normalized)
    .then(
      (ok) => {
        if (ok) {
          if (verified.size >= CACHE_LIMIT) verified.delete(verified.values().next().value as string);
          verified.add(key);
        }
        return ok;
      },
      () => false,
    );
  inFlight.set(key, run);
  try {
    return await run;
  } finally {
    inFlight.delete(key);
  }
}

/** Does the client-supplied secret match the configured one (plain text or bcrypt hash)? */
export async function secretMatches(configured: string, supplied: string): Promise<boolean> {
  if (isBcrypt(configured)) return bcryptMatches(configured, supplied);
  return constantTimeEqual(configured, supplied);
}

/** Test hook: forget cached bcrypt successes. */
export function clearPasswordCache(): void {
  verified.clear();
}
