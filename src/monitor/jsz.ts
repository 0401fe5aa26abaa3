import { statfsSync } from "node:fs";
import { totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { JetStreamOptions } from "../server/options.js";
import { iso } from "./format.js";
import { decodeBool, decodeInt } from "./params.js";
import type { MonitoredServer } from "./types.js";

/** /jsz `config` and /varz `jetstream.config`. */
export interface JetStreamConfigInfo {
  max_memory: number;
  max_storage: number;
  store_dir?: string;
  domain?: string;
}

/** Usage counters, as /jsz lists them at top level and /varz under `jetstream.stats`. */
export interface JetStreamUsage {
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  accounts: number;
  ha_assets: number;
  api: { total: number; errors: number };
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
}

export interface JszQuery {
  acc: string;
  accounts: boolean;
  streams: boolean;
  consumers: boolean;
  config: boolean;
  leaderOnly: boolean;
  offset: number;
  limit: number;
}

/**
 * What the JetStream engine offers monitoring. The server exposes it as `server.jetstreamMonitor` once the
 * engine runs; until then /jsz, /varz and /healthz answer from the options alone.
 */
export interface JetStreamMonitorSource {
  config(): JetStreamConfigInfo;
  usage(): JetStreamUsage;
  /** `account_details` entries for /jsz?accounts=true (and acc=, streams=, consumers=, config=). */
  accountDetails?(query: JszQuery): object[];
  /** Does the account have JetStream (config-file or JWT limits)? */
  accountEnabled?(name: string): boolean;
  /** `meta_cluster` once clustered. */
  metaCluster?(): object | undefined;
  /** Problems /healthz should report; empty when healthy. */
  healthErrors?(opts: { jsEnabledOnly: boolean; jsServerOnly: boolean }): string[];
}

const ZERO_USAGE: JetStreamUsage = {
  memory: 0,
  storage: 0,
  reserved_memory: 0,
  reserved_storage: 0,
  accounts: 0,
  ha_assets: 0,
  api: { total: 0, errors: 0 },
  streams: 0,
  consumers: 0,
  messages: 0,
  bytes: 0,
};

/** Free space where the store will live: the store dir, or its nearest existing parent. */
function availableDisk(dir: string): number | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      const s = statfsSync(d);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

/** Limits as nats-server resolves the defaults: 75 % of RAM, 75 % of the free disk (1 TB if unknown). */
export function configFromOptions(js: JetStreamOptions): JetStreamConfigInfo {
  const disk = availableDisk(js.storeDir);
  const info: JetStreamConfigInfo = {
    max_memory: js.maxMemory >= 0 ? js.maxMemory : Math.floor(totalmem() * 0.75),
    max_storage: js.maxStore >= 0 ? js.maxStore : disk === undefined ? 1024 ** 4 : Math.floor(disk * 0.75),
    // nats-server keeps its files in a `jetstream` directory under the configured store dir.
    store_dir: join(resolve(js.storeDir), "jetstream"),
  };
  if (js.domain) info.domain = js.domain;
  return info;
}

/** The config and usage to report, or undefined when JetStream is off. */
export function jetStreamState(
  server: MonitoredServer,
): { config: JetStreamConfigInfo; usage: JetStreamUsage; meta?: object } | undefined {
  const js = server.options.jetstream;
  if (!js?.enabled) return undefined;
  const src = server.jetstreamMonitor;
  if (src === undefined) return { config: configFromOptions(js), usage: ZERO_USAGE };
  return { config: src.config(), usage: src.usage(), meta: src.metaCluster?.() };
}

export function parseJszQuery(q: URLSearchParams): JszQuery {
  const acc = q.get("acc") ?? "";
  const accounts = decodeBool(q, "accounts");
  const streams = decodeBool(q, "streams");
  const consumers = decodeBool(q, "consumers");
  const config = decodeBool(q, "config");
  const offset = Math.max(0, decodeInt(q, "offset"));
  const limit = decodeInt(q, "limit");
  const leaderOnly = decodeBool(q, "leader-only");
  return { acc, accounts, streams, consumers, config, leaderOnly, offset, limit };
}

export function jsz(server: MonitoredServer, q: URLSearchParams, now: Date): object {
  const query = parseJszQuery(q);
  const state = jetStreamState(server);
  const head = { server_id: server.id, now: iso(now) };
  if (state === undefined) {
    return { ...head, disabled: true, config: { max_memory: 0, max_storage: 0 }, ...ZERO_USAGE };
  }
  const out: Record<string, unknown> = { ...head, config: state.config, ...state.usage };
  if (state.meta !== undefined) out.meta_cluster = state.meta;
  const wantsDetails = query.accounts || query.acc !== "";
  const details = wantsDetails ? server.jetstreamMonitor?.accountDetails?.(query) : undefined;
  if (details && details.length > 0) out.account_details = details;
  return out;
}
