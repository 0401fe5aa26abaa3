// Lattice's own release, and the nats-server feature level it implements. Clients switch features on by the
// INFO `version`, so it only rises as the matching features land.
export const LATTICE_VERSION = "0.1.0";
export const NATS_FEATURE_LEVEL = "2.11.0";
export const PROTOCOL_VERSION = 1;
