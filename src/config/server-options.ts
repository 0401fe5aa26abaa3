import { resolve } from "node:path";
import { AccountConfigError, applyTenancyKey, finishTenancy } from "../accounts/config.js";
import { authOptionsFromConfig } from "../auth/config.js";
import {
  defaultJetStreamOptions,
  defaultOptions,
  defaultWebSocketOptions,
  type JetStreamOptions,
  type ServerOptions,
  type WebSocketOptions,
} from "../server/options.js";
import { MappingError, mappingsFromConfig, type WithMappings } from "../subjects/mapping.js";
import { loadTlsFiles, TlsConfigError, tlsOptionsFromConfig } from "../tls/index.js";
import { validateWebSocketAuth } from "../websocket/auth.js";
import { clusterFrom, gatewayFrom, leafNodesFrom, validateClusterOptions } from "./cluster-options.js";
import {
  asBool,
  asDuration,
  asInt,
  asMap,
  asSize,
  asString,
  asStringList,
  type Conf,
  OptionsError,
  parseListen,
  type Warn,
} from "./decode.js";
import { type ConfigMap, isUsedAsVariable } from "./tree.js";

// Turns a parsed config file (and flag overrides, which use the same option names) into ServerOptions.
// Unknown keys warn; values of the wrong type refuse to start with a message naming the option. The value
// converters are in decode.ts, the cluster/gateway/leafnodes blocks in cluster-options.ts.

export { OptionsError };

/** Features whose config blocks are accepted and checked, but which this release does not run. */
const NOT_YET_AVAILABLE: Record<string, string> = {
  mqtt: "MQTT",
};

/** Options that are accepted for compatibility and have no effect here. */
const ACCEPTED_NO_EFFECT = new Set([
  "logtime_utc",
  "log_size_limit",
  "log_max_num",
  "syslog",
  "max_traced_msg_len",
  "connect_error_reports",
  "reconnect_error_reports",
  "disable_sublist_cache",
  "trace_verbose",
  "trace_headers",
  "server_metadata",
  "max_sub_tokens",
  "write_timeout",
]);

function jetStreamFrom(v: unknown, warn: Warn, existing: JetStreamOptions | undefined): JetStreamOptions {
  const js = existing ?? defaultJetStreamOptions();
  if (typeof v === "boolean" || typeof v === "string") {
    js.enabled = asBool(v, "jetstream");
    return js;
  }
  const m = asMap(v, "jetstream");
  for (const [k, val] of Object.entries(m)) {
    switch (k) {
      case "store_dir":
      case "store":
      case "storedir":
        js.storeDir = asString(val, `jetstream.${k}`);
        break;
      case "max_memory_store":
      case "max_mem_store":
      case "max_mem":
        js.maxMemory = asSize(val, `jetstream.${k}`);
        break;
      case "max_file_store":
      case "max_file":
        js.maxStore = asSize(val, `jetstream.${k}`);
        break;
      case "domain":
        js.domain = asString(val, "jetstream.domain");
        break;
      case "enabled":
        js.enabled = asBool(val, "jetstream.enabled");
        break;
      case "sync_interval":
        js.syncIntervalMs = val === "always" ? 0 : asDuration(val, "jetstream.sync_interval", warn);
        break;
      case "strict":
      case "limits":
      case "unique_tag":
      case "max_outstanding_catchup":
      case "max_buffered_size":
      case "max_buffered_msgs":
      case "request_queue_limit":
        break;
      case "key":
      case "cipher":
      case "prev_key":
        throw new OptionsError(`jetstream.${k}: encryption at rest is not supported by this release`);
      default:
        warn(`unknown field "jetstream.${k}"`);
    }
  }
  return js;
}

function webSocketFrom(v: unknown, warn: Warn): WebSocketOptions {
  const ws = defaultWebSocketOptions();
  const m = asMap(v, "websocket");
  for (const [k, val] of Object.entries(m)) {
    const f = `websocket.${k}`;
    switch (k) {
      case "listen": {
        const l = parseListen(val, f);
        if (l.host) ws.host = l.host;
        ws.port = l.port;
        break;
      }
      case "host":
      case "net":
        ws.host = asString(val, f);
        break;
      case "port":
        ws.port = asInt(val, f);
        break;
      case "no_tls":
        ws.noTls = asBool(val, f);
        break;
      case "same_origin":
        ws.sameOrigin = asBool(val, f);
        break;
      case "allowed_origins":
        ws.allowedOrigins = asStringList(val, f);
        break;
      case "compression":
        ws.compression = asBool(val, f);
        break;
      case "handshake_timeout":
        ws.handshakeTimeoutMs = asDuration(val, f, warn);
        break;
      case "advertise":
        ws.advertise = asString(val, f);
        break;
      case "no_auth_user":
        ws.noAuthUser = asString(val, f);
        break;
      case "authorization":
        ws.authorization = authOptionsFromConfig(asMap(val, f), warn);
        break;
      case "tls":
        ws.tls = tlsFrom(val, warn, f);
        break;
      case "jwt_cookie":
      case "user_cookie":
      case "pass_cookie":
      case "token_cookie":
      case "headers":
      case "ping_interval":
        warn(`${f} is accepted but has no effect in this release`);
        break;
      default:
        warn(`unknown field "${f}"`);
    }
  }
  if (ws.noTls) ws.tls = undefined;
  if (ws.tls === undefined && !ws.noTls) throw new OptionsError("websocket requires TLS configuration");
  return ws;
}

function tenancy(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof AccountConfigError) throw new OptionsError(err.message);
    throw err;
  }
}

function mappingsFrom(v: unknown, path: string): NonNullable<WithMappings["mappings"]> {
  try {
    return mappingsFromConfig(v, path);
  } catch (err) {
    if (err instanceof MappingError) throw new OptionsError(err.message);
    throw err;
  }
}

function tlsFrom(v: unknown, warn: Warn, path = "tls"): ServerOptions["tls"] {
  try {
    return tlsOptionsFromConfig(v, warn, path);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new OptionsError(err.message);
    throw err;
  }
}

/** Apply a parsed config map (or flag overrides with the same names) on top of `opts`. */
export function applyConfig(
  opts: ServerOptions,
  conf: Conf,
  warn: Warn,
  configDir = process.cwd(),
): ServerOptions {
  let storeDirTop: string | undefined;
  for (const [key, v] of Object.entries(conf)) {
    const k = key.toLowerCase();
    switch (k) {
      case "listen": {
        const l = parseListen(v, k);
        if (l.host) opts.host = l.host;
        opts.port = l.port;
        break;
      }
      case "host":
      case "net":
        opts.host = asString(v, k);
        break;
      case "port":
        opts.port = asInt(v, k);
        break;
      case "server_name":
        opts.serverName = asString(v, k);
        break;
      case "client_advertise":
        opts.clientAdvertise = asString(v, k);
        break;
      case "server_tags":
        opts.tags = (Array.isArray(v) ? v : String(v).split(",")).map((t) => asString(t, k).trim());
        break;
      case "http":
      case "monitor": {
        const l = parseListen(v, k);
        if (l.host) opts.httpHost = l.host;
        opts.httpPort = l.port;
        break;
      }
      case "http_port":
      case "monitor_port":
        opts.httpPort = asInt(v, k);
        break;
      case "http_base_path":
        opts.httpBasePath = asString(v, k);
        break;
      case "https": {
        const l = parseListen(v, k);
        if (l.host) opts.httpHost = l.host;
        opts.httpsPort = l.port;
        break;
      }
      case "https_port":
        opts.httpsPort = asInt(v, k);
        break;
      case "max_connections":
      case "max_conn":
        opts.maxConnections = asInt(v, k);
        break;
      case "max_control_line":
        opts.maxControlLine = asInt(v, k);
        break;
      case "max_payload":
        opts.maxPayload = asInt(v, k);
        break;
      case "max_pending":
        opts.maxPending = asInt(v, k);
        break;
      case "max_subscriptions":
      case "max_subs":
        opts.maxSubscriptions = asInt(v, k);
        break;
      case "max_closed_clients":
        opts.maxClosedClients = asInt(v, k);
        break;
      case "ping_interval":
        opts.pingIntervalMs = asDuration(v, k, warn);
        break;
      case "ping_max":
        opts.pingMax = asInt(v, k);
        break;
      case "write_deadline":
        opts.writeDeadlineMs = asDuration(v, k, warn);
        break;
      case "lame_duck_duration":
        opts.lameDuckDurationMs = asDuration(v, k, warn);
        break;
      case "lame_duck_grace_period":
        opts.lameDuckGracePeriodMs = asDuration(v, k, warn);
        break;
      case "no_header_support":
        opts.noHeaderSupport = asBool(v, k);
        break;
      case "no_auth_user":
        opts.noAuthUser = asString(v, k);
        break;
      case "authorization":
        // The block itself (not a lower-cased copy): it remembers which keys define variables.
        asMap(v, k);
        opts.authorization = { ...opts.authorization, ...authOptionsFromConfig(v as Conf, warn) };
        break;
      case "user":
        opts.authorization = { ...opts.authorization, user: asString(v, k) };
        break;
      case "pass":
      case "password":
        opts.authorization = { ...opts.authorization, password: asString(v, k) };
        break;
      case "token":
        opts.authorization = { ...opts.authorization, token: asString(v, k) };
        break;
      case "debug":
        opts.debug = asBool(v, k);
        break;
      case "trace":
        opts.trace = asBool(v, k);
        break;
      case "logtime":
        opts.logtime = asBool(v, k);
        break;
      case "log_file":
      case "logfile":
        opts.logFile = resolve(configDir, asString(v, k));
        break;
      case "pid_file":
      case "pidfile":
        opts.pidFile = resolve(configDir, asString(v, k));
        break;
      case "ports_file_dir":
        opts.portsFileDir = resolve(configDir, asString(v, k));
        break;
      case "jetstream":
        opts.jetstream = jetStreamFrom(v, warn, opts.jetstream);
        break;
      case "store_dir":
        storeDirTop = asString(v, k);
        break;
      case "websocket":
      case "ws":
        opts.websocket = webSocketFrom(v, warn);
        break;
      case "tls":
        // `false` comes from --tls=false and switches TLS off.
        opts.tls = v === false ? undefined : tlsFrom(v, warn);
        break;
      case "allow_non_tls":
        opts.allowNonTls = asBool(v, k);
        break;
      case "cluster":
        opts.cluster = clusterFrom(v, warn, opts.cluster);
        break;
      case "gateway":
        opts.gateway = gatewayFrom(v, warn, opts.gateway);
        break;
      case "leafnodes":
      case "leaf":
        opts.leafnodes = leafNodesFrom(v, warn, configDir, opts.leafnodes, k);
        break;
      case "ocsp":
        throw new OptionsError(
          `${k}: OCSP stapling is not supported by this release; remove the "${k}" block`,
        );
      case "accounts":
      case "operator":
      case "operators":
      case "trusted":
      case "trusted_keys":
      case "resolver":
      case "resolver_preload":
      case "system_account":
      case "system":
      case "no_system_account":
        tenancy(() => applyTenancyKey(opts, k, v, warn, configDir));
        break;
      case "mappings":
      case "maps": {
        // The global account's mappings (nats-server puts them on $G).
        const o = opts as ServerOptions & WithMappings;
        o.mappings = [...(o.mappings ?? []), ...mappingsFrom(v, k)];
        break;
      }
      default:
        if (k in NOT_YET_AVAILABLE) {
          asMap(v, k);
          warn(
            `"${k}" is configured, but ${NOT_YET_AVAILABLE[k]} are not available in this release: ignored`,
          );
        } else if (!ACCEPTED_NO_EFFECT.has(k) && !isUsedAsVariable(conf as ConfigMap, key)) {
          warn(`unknown field "${k}"`);
        }
    }
  }
  if (storeDirTop !== undefined) {
    opts.jetstream ??= { ...defaultJetStreamOptions(), enabled: false };
    opts.jetstream.storeDir = storeDirTop;
  }
  return opts;
}

/** Check cross-field rules once everything is applied. */
export function validateOptions(opts: ServerOptions): void {
  if (opts.maxPayload <= 0) throw new OptionsError("max_payload: must be positive");
  if (opts.maxPayload > opts.maxPending) {
    throw new OptionsError(
      `max_payload (${opts.maxPayload}) can not be higher than max_pending (${opts.maxPending})`,
    );
  }
  if (opts.maxControlLine <= 0) throw new OptionsError("max_control_line: must be positive");
  if (opts.port < -1 || opts.port > 65535) throw new OptionsError(`port: ${opts.port} is out of range`);
  if (opts.httpsPort !== undefined) {
    if (opts.httpPort !== undefined && opts.httpPort !== 0 && opts.httpsPort !== 0) {
      throw new OptionsError(
        `can't specify both HTTP (${opts.httpPort}) and HTTPs (${opts.httpsPort}) ports`,
      );
    }
    if (opts.tls === undefined) throw new OptionsError("TLS cert and key required for HTTPS");
  }
  // Unreadable or mismatched certificate files refuse to start (and fail `-t`), naming the file.
  for (const t of [opts.tls, opts.websocket?.tls]) {
    if (t === undefined) continue;
    try {
      loadTlsFiles(t);
    } catch (err) {
      if (err instanceof TlsConfigError) throw new OptionsError(err.message);
      throw err;
    }
  }
  // Account users join the authorization users; operator mode is checked against the rest.
  tenancy(() => finishTenancy(opts));
  validateClusterOptions(opts);
  try {
    validateWebSocketAuth(opts);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const auth = opts.authorization;
  if (opts.noAuthUser !== undefined) {
    const known = auth?.users?.some((u) => u.user === opts.noAuthUser) ?? false;
    if (!known)
      throw new OptionsError(
        `no_auth_user: "${opts.noAuthUser}" not present as user or nkey in authorization block`,
      );
  }
}

export function freshOptions(): ServerOptions {
  return defaultOptions();
}
