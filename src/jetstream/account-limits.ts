// An account's JetStream limits, in the units and names of `$JS.API.INFO`. Kept apart from the JetStream
// engine so configuration parsing can use them without loading it.

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

/** No limit anywhere (-1), as nats-server reports an account without JetStream limits. */
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
