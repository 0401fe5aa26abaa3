// The JetStream API level Lattice implements: clients read it from INFO `api_lvl` and `$JS.API.INFO`, and may
// require a level with the `Nats-Required-Api-Level` header. Level 1 is nats-server 2.11: per-message TTL,
// subject delete markers, batch direct get, consumer pause and priority groups.
export const API_LEVEL = 1;
