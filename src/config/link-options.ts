/**
 * What the server-to-server link blocks (`cluster { }`, `gateway { }`, `leafnodes { }`) decode alike: the
 * listener keys, user/password authorization, TLS, link URLs, subject lists and compression. The blocks
 * themselves are in cluster-options.ts and leafnode-options.ts.
 */
import { readFileSync } from "node:fs";
import type { ServerLinkAuth } from "../cluster/options.js";
import { isValidSubscribeSubject } from "../subjects/validate.js";
import { loadTlsFiles, TlsConfigError, type TlsOptions, tlsOptionsFromConfig } from "../tls/index.js";
import {
  asDuration,
  asInt,
  asList,
  asSeconds,
  asString,
  asStringList,
  assign,
  type BlockKeys,
  decodeBlock,
  describeValue,
  isMap,
  noEffect,
  OptionsError,
  parseListen,
  refused,
  type Warn,
} from "./decode.js";

/** What every link listener has: where it listens, what it advertises, its write deadline. */
interface Listener {
  host: string;
  port?: number;
  advertise?: string;
  writeDeadlineMs?: number;
}

/**
 * The keys every link listener block reads alike; `block` names the block's own spelling of `advertise`
 * (`cluster_advertise`, `gateway_advertise`, `leafnode_advertise`).
 */
export function listenerKeys(block: "cluster" | "gateway" | "leafnode"): BlockKeys<Listener> {
  return {
    listen: (l, e) => {
      const a = parseListen(e.value, e.field);
      if (a.host !== undefined) l.host = a.host;
      l.port = a.port;
    },
    "host|net": assign("host", asString),
    port: assign("port", asInt),
    [`advertise|${block}_advertise`]: assign("advertise", asString),
    write_deadline: assign("writeDeadlineMs", asDuration),
    write_timeout: noEffect,
  };
}

/** A `tls { }` block, its errors as OptionsErrors. */
export function tlsFrom(v: unknown, field: string, warn: Warn): TlsOptions {
  try {
    return tlsOptionsFromConfig(v, warn, field);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new OptionsError(err.message);
    throw err;
  }
}

/** A route, gateway or leaf URL; refused when it does not parse or names no host and port. */
export function linkUrl(v: unknown, field: string, kind: string): string {
  const raw = asString(v, field).trim();
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new OptionsError(`${field}: error parsing ${kind} url ${JSON.stringify(raw)}`);
  }
  if (u.hostname === "") {
    throw new OptionsError(`${field}: ${kind} url ${JSON.stringify(raw)} has no host`);
  }
  return raw;
}

/** Route/gateway URL lists: duplicates are dropped with nats-server's warning. */
export function urlList(v: unknown, field: string, kind: string, warn: Warn, needPort: boolean): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  asList(v, field).forEach((x, i) => {
    const url = linkUrl(x, `${field}[${i}]`, kind);
    if (seen.has(url)) {
      warn(`${field}: duplicate ${kind} entry ${JSON.stringify(url)} detected: ignored`);
      return;
    }
    seen.add(url);
    if (needPort && new URL(url).port === "") {
      throw new OptionsError(`${field}[${i}]: ${kind} url ${JSON.stringify(url)} has no port`);
    }
    out.push(url);
  });
  return out;
}

/** A subject or a list of subjects, each one a valid subscription subject. */
export function asSubjectList(v: unknown, field: string): string[] {
  const list = asStringList(v, field);
  for (const s of list) {
    if (!isValidSubscribeSubject(s))
      throw new OptionsError(`${field}: subject "${s}" is not a valid subject`);
  }
  return list;
}

/** The keys of one user: in every authorization block, and in a leaf node's `users` entries. */
export const USER_KEYS: BlockKeys<{ user?: string; password?: string }> = {
  "user|username": assign("user", asString),
  "pass|password": assign("password", asString),
  proxy_required: noEffect,
};

function authTimeout(v: unknown, field: string, warn: Warn): number {
  const ms = asSeconds(v, field);
  if (ms > 60_000) {
    warn(
      `${field}: timeout of ${ms / 1000} seconds is high, consider keeping it under 60 seconds ` +
        "(an unquoted 1m is a million: write '1m')",
    );
  }
  return ms;
}

/** The keys every link `authorization { }` reads alike; `what` starts the refusal of tokens. */
export function authorizationKeys(what: string): BlockKeys<ServerLinkAuth> {
  return {
    ...USER_KEYS,
    timeout: assign("timeoutMs", authTimeout),
    token: refused(`${what} authorization does not support tokens`),
  };
}

const COMPRESSION_MODES: Record<string, string> = {
  "not supported": "not supported",
  not_supported: "not supported",
  disabled: "off",
  off: "off",
  false: "off",
  accept: "accept",
  auto: "s2_auto",
  s2_auto: "s2_auto",
  fast: "s2_fast",
  s2_fast: "s2_fast",
  better: "s2_better",
  s2_better: "s2_better",
  best: "s2_best",
  s2_best: "s2_best",
};

const COMPRESSION_KEYS: BlockKeys<{ mode: string }> = {
  mode: assign("mode", asString),
  // Checked for syntax only: Lattice does not compress, so the thresholds never apply.
  "rtt_thresholds|thresholds|rtts|rtt": (_, e, warn) => {
    asList(e.value, e.field).forEach((d, i) => {
      if (typeof d !== "string") {
        throw new OptionsError(`${e.field}[${i}]: expected a duration string, got ${describeValue(d)}`);
      }
      asDuration(d, `${e.field}[${i}]`, warn);
    });
  },
};

/**
 * The converter of `compression`: a mode name, a boolean (`true` = `forOn`: s2_fast on routes, s2_auto
 * on leaf links), or `{ mode, rtt_thresholds }`, to the normalised mode name.
 */
export function compressionMode(forOn: string): (v: unknown, field: string, warn: Warn) => string {
  return (v, field, warn) => {
    let mode: string;
    if (typeof v === "boolean") mode = v ? forOn : "off";
    else if (typeof v === "string") mode = v;
    else if (isMap(v)) mode = decodeBlock(v, field, { mode: "" }, warn, COMPRESSION_KEYS).mode;
    else throw new OptionsError(`${field}: should be a boolean, a mode or a map, got ${describeValue(v)}`);
    let m = mode.toLowerCase();
    if (m === "on" || m === "enabled" || m === "true") m = forOn;
    const normalised = Object.hasOwn(COMPRESSION_MODES, m) ? COMPRESSION_MODES[m] : undefined;
    if (normalised === undefined) throw new OptionsError(`${field}: unsupported compression mode "${mode}"`);
    return normalised;
  };
}

/** Unreadable or mismatched certificate files refuse to start (and fail `-t`), as for client TLS. */
export function loadLinkTls(tls: TlsOptions | undefined, where: string): void {
  if (tls === undefined) return;
  try {
    if (tls.certFile !== undefined || tls.certs.length > 0) loadTlsFiles(tls);
    else if (tls.caFile !== undefined) readFileSync(tls.caFile);
  } catch (err) {
    if (isErrnoException(err)) {
      const why = err.code === "ENOENT" ? "no such file or directory" : err.message;
      throw new OptionsError(`${where}: tls.ca_file: open ${tls.caFile}: ${why}`);
    }
    if (err instanceof TlsConfigError) throw new OptionsError(`${where}: ${err.message}`);
    throw err;
  }
}

function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string";
}
