// JetStream limits of an account JWT as the JetStream engine applies them: one set from the claims'
// `limits`, or per tier from `tiered_limits` when the flat ones grant no storage (as nats-server reads them).
import type { AccountClaims, JetStreamClaimLimits } from "../auth/jwt-claims.js";
import type { AccountLimits, JsLimitSet } from "../jetstream/js-account.js";

/** 0 or less in the per-stream and ack-pending fields means "no limit". */
function orUnlimited(n: number): number {
  return n > 0 ? n : -1;
}

function fromClaim(l: JetStreamClaimLimits): AccountLimits {
  return {
    max_memory: l.memStorage,
    max_storage: l.diskStorage,
    max_streams: l.streams,
    max_consumers: l.consumer,
    max_ack_pending: orUnlimited(l.maxAckPending),
    memory_max_stream_bytes: orUnlimited(l.memMaxStreamBytes),
    storage_max_stream_bytes: orUnlimited(l.diskMaxStreamBytes),
    max_bytes_required: l.maxBytesRequired,
  };
}

/** The account's JetStream limits; undefined when the JWT does not enable JetStream. */
export function jetStreamLimitsOf(claims: AccountClaims | undefined): JsLimitSet | undefined {
  const js = claims?.jetstream;
  if (js === undefined) return undefined;
  if (js.limits.memStorage !== 0 || js.limits.diskStorage !== 0) {
    return { default: fromClaim(js.limits), tiers: {} };
  }
  const tiers: Record<string, AccountLimits> = {};
  for (const [name, l] of Object.entries(js.tiers)) tiers[name] = fromClaim(l);
  return { default: undefined, tiers };
}
