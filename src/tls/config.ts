// Translates the config file's `tls { }` block (already parsed into plain values) and the --tls* flags into
// TlsOptions. Key names are case-insensitive and take nats-server's aliases; unknown keys are errors, as in
// nats-server. Go cipher-suite and curve names are mapped onto OpenSSL's; names Node cannot use are dropped
// with a warning.
import { createSecureContext, getCiphers } from "node:tls";
import { parseGoDuration } from "../auth/duration.js";
import {
  DEFAULT_HANDSHAKE_FIRST_FALLBACK_MS,
  DEFAULT_TLS_TIMEOUT_MS,
  defaultTlsOptions,
  type TlsCertPair,
  type TlsOptions,
} from "./options.js";

type Warn = (msg: string) => void;

/** A `tls { }` block that cannot be used; the message names the field. */
export class TlsConfigError extends Error {}

/** Go (IANA) cipher-suite names → OpenSSL names. TLS 1.3 suites keep their names. */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  // Older spellings nats-server once accepted.
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_AES_128_GCM_SHA256: "TLS_AES_128_GCM_SHA256",
  TLS_AES_256_GCM_SHA384: "TLS_AES_256_GCM_SHA384",
  TLS_CHACHA20_POLY1305_SHA256: "TLS_CHACHA20_POLY1305_SHA256",
};

/** Suites Go calls insecure (nats-server wants `allow_insecure_cipher_suites` for them). */
const INSECURE_CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_RC4_128_SHA: "RC4-SHA",
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: "DES-CBC3-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: "ECDHE-ECDSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: "ECDHE-RSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: "ECDHE-RSA-DES-CBC3-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
};

/** Go curve names → OpenSSL group names. */
const CURVES: Record<string, string> = {
  CurveP256: "P-256",
  CurveP384: "P-384",
  CurveP521: "P-521",
  X25519: "X25519",
  X25519MLKEM768: "X25519MLKEM768",
};

/** Keys that need platform features Lattice does not have; refusing beats silently ignoring them. */
const UNSUPPORTED: Record<string, string> = {
  ocsp_peer: "OCSP peer verification is not supported by this release",
  cert_store: "certificate stores are not supported by this release (Windows only in nats-server)",
  cert_match_by: "certificate stores are not supported by this release (Windows only in nats-server)",
  cert_match: "certificate stores are not supported by this release (Windows only in nats-server)",
  ca_certs_match: "certificate stores are not supported by this release (Windows only in nats-server)",
  cert_match_skip_invalid:
    "certificate stores are not supported by this release (Windows only in nats-server)",
};

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isMap(v)) return "a map";
  return JSON.stringify(v);
}

function str(v: unknown, field: string, what = "a string"): string {
  if (typeof v === "string") return v;
  throw new TlsConfigError(`${field}: expected ${what}, got ${describe(v)}`);
}

function bool(v: unknown, field: string): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (["true", "yes", "on"].includes(s)) return true;
    if (["false", "no", "off"].includes(s)) return false;
  }
  throw new TlsConfigError(`${field}: expected a boolean, got ${describe(v)}`);
}

function list(v: unknown, field: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new TlsConfigError(`${field}: expected an array, got ${describe(v)}`);
}

/** `timeout`: seconds as a number (fractions allowed) or a Go duration string. */
function timeoutMs(v: unknown, field: string): number {
  let ms: number;
  if (typeof v === "number") ms = v * 1000;
  else if (typeof v === "bigint") ms = Number(v) * 1000;
  else if (typeof v === "string") {
    try {
      ms = parseGoDuration(v);
    } catch {
      throw new TlsConfigError(`${field}: invalid duration ${JSON.stringify(v)}`);
    }
  } else throw new TlsConfigError(`${field}: expected seconds or a duration, got ${describe(v)}`);
  if (!Number.isFinite(ms) || ms < 0) throw new TlsConfigError(`${field}: must not be negative`);
  return ms;
}

/** handshake_first: true/false, "auto" (fall back to INFO first after 50ms), or a fallback duration. */
function handshakeFirst(v: unknown, field: string, tc: TlsOptions): void {
  if (typeof v === "boolean") {
    tc.handshakeFirst = v;
    tc.handshakeFirstFallbackMs = 0;
    return;
  }
  if (typeof v !== "string") {
    throw new TlsConfigError(`${field}: should be a boolean or a string, got ${describe(v)}`);
  }
  const s = v.toLowerCase();
  if (s === "true" || s === "on") {
    tc.handshakeFirst = true;
    tc.handshakeFirstFallbackMs = 0;
  } else if (s === "false" || s === "off") {
    tc.handshakeFirst = false;
    tc.handshakeFirstFallbackMs = 0;
  } else if (s === "auto" || s === "auto_fallback") {
    tc.handshakeFirst = true;
    tc.handshakeFirstFallbackMs = DEFAULT_HANDSHAKE_FIRST_FALLBACK_MS;
  } else {
    let ms: number;
    try {
      ms = parseGoDuration(v);
    } catch {
      throw new TlsConfigError(`${field}: value ${JSON.stringify(v)} is invalid`);
    }
    tc.handshakeFirst = true;
    tc.handshakeFirstFallbackMs = Math.max(0, ms);
  }
}

function minVersion(v: unknown, field: string): "TLSv1.2" | "TLSv1.3" {
  const s = str(v, field);
  switch (s) {
    case "1.2":
      return "TLSv1.2";
    case "1.3":
      return "TLSv1.3";
    case "1.0":
    case "1.1":
      throw new TlsConfigError(`${field}: unsupported TLS version: TLS ${s}`);
    default:
      throw new TlsConfigError(`${field}: unknown version: ${s}`);
  }
}

function cipherSuites(v: unknown, field: string, allowInsecure: () => boolean, warn: Warn): string[] {
  const names = list(v, field);
  if (names.length === 0) throw new TlsConfigError(`${field}: cannot be empty`);
  const available = new Set(getCiphers().map((c) => c.toLowerCase()));
  const out: string[] = [];
  const insecure: string[] = [];
  for (const n of names) {
    const name = str(n, field);
    const openssl = CIPHERS[name] ?? INSECURE_CIPHERS[name];
    if (openssl === undefined) throw new TlsConfigError(`${field}: unrecognized cipher ${name}`);
    if (name in INSECURE_CIPHERS) insecure.push(name);
    if (available.has(openssl.toLowerCase())) out.push(openssl);
    else warn(`${field}: cipher suite ${name} is not available in this Node.js build: ignored`);
  }
  if (insecure.length > 0 && !allowInsecure()) {
    warn(`${field}: insecure cipher suites configured: ${insecure.join(", ")}`);
  }
  if (out.length === 0)
    throw new TlsConfigError(`${field}: none of the configured cipher suites is available`);
  return out;
}

function curvePreferences(v: unknown, field: string, warn: Warn): string[] {
  const names = list(v, field);
  if (names.length === 0) throw new TlsConfigError(`${field}: cannot be empty`);
  const out: string[] = [];
  for (const n of names) {
    const name = str(n, field);
    const group = CURVES[name];
    if (group === undefined) throw new TlsConfigError(`${field}: unrecognized curve preference ${name}`);
    try {
      createSecureContext({ ecdhCurve: group });
      out.push(group);
    } catch {
      warn(`${field}: curve ${name} is not available in this Node.js build: ignored`);
    }
  }
  if (out.length === 0) throw new TlsConfigError(`${field}: none of the configured curves is available`);
  return out;
}

function pinnedCerts(v: unknown, field: string): string[] | undefined {
  const what = "a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo";
  if (!Array.isArray(v)) throw new TlsConfigError(`${field}: expected ${what}`);
  if (v.length === 0) return undefined;
  return v.map((e) => {
    const key = str(e, field, what).toLowerCase();
    if (!/^[a-f0-9]{64}$/.test(key)) {
      throw new TlsConfigError(
        `${field}: key ${key} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`,
      );
    }
    return key;
  });
}

function certPairs(v: unknown, field: string): TlsCertPair[] {
  return list(v, field).map((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isMap(entry)) throw new TlsConfigError(`${at}: expected a map, got ${describe(entry)}`);
    let certFile = "";
    let keyFile = "";
    for (const [k, val] of Object.entries(entry)) {
      switch (k.toLowerCase()) {
        case "cert_file":
          certFile = str(val, `${at}.cert_file`, "a file name");
          break;
        case "key_file":
          keyFile = str(val, `${at}.key_file`, "a file name");
          break;
        default:
          throw new TlsConfigError(`${at}: unknown field "${k}"`);
      }
    }
    if (certFile === "" || keyFile === "") {
      throw new TlsConfigError(`${at}: both 'cert_file' and 'key_file' are required`);
    }
    return { certFile, keyFile };
  });
}

/** The client `tls { }` block. Throws TlsConfigError naming the field at fault. */
export function tlsOptionsFromConfig(block: unknown, warn: Warn, path = "tls"): TlsOptions {
  if (!isMap(block)) throw new TlsConfigError(`${path}: expected a map, got ${describe(block)}`);
  const tc = defaultTlsOptions();
  let allowInsecure = false;
  let ciphers: unknown;
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(block)) {
    const k = key.toLowerCase();
    const f = `${path}.${k}`;
    if (seen.has(k)) throw new TlsConfigError(`${path}: field "${k}" given more than once`);
    seen.add(k);
    switch (k) {
      case "cert_file":
        tc.certFile = str(v, f, "a file name");
        break;
      case "key_file":
        tc.keyFile = str(v, f, "a file name");
        break;
      case "ca_file":
        tc.caFile = str(v, f, "a file name");
        break;
      case "verify":
        // verify_and_map implies verify whatever order the keys come in.
        tc.verify = bool(v, f) || tc.map;
        break;
      case "verify_and_map":
        tc.map = bool(v, f);
        if (tc.map) tc.verify = true;
        break;
      case "verify_cert_and_check_known_urls":
        if (bool(v, f)) throw new TlsConfigError(`${f}: not supported in this context`);
        break;
      case "insecure":
        // Only meaningful for connections the server makes (leaf remotes).
        tc.insecure = bool(v, f);
        break;
      case "timeout":
        // 0 means the default, as in nats-server.
        tc.timeoutMs = timeoutMs(v, f) || DEFAULT_TLS_TIMEOUT_MS;
        break;
      case "handshake_first":
      case "first":
      case "immediate":
        handshakeFirst(v, f, tc);
        break;
      case "min_version":
      case "minimum_version":
        tc.minVersion = minVersion(v, f);
        break;
      case "cipher_suites":
        ciphers = v;
        break;
      case "allow_insecure_cipher_suites":
        allowInsecure = bool(v, f);
        break;
      case "curve_preferences":
        tc.curves = curvePreferences(v, f, warn);
        break;
      case "pinned_certs":
        tc.pinnedCerts = pinnedCerts(v, f);
        break;
      case "certs":
      case "certificates":
        tc.certs = certPairs(v, f);
        break;
      case "connection_rate_limit":
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
          throw new TlsConfigError(`${f}: expected a non-negative integer, got ${describe(v)}`);
        }
        tc.rateLimit = v;
        break;
      default:
        if (k in UNSUPPORTED) throw new TlsConfigError(`${f}: ${UNSUPPORTED[k]}`);
        throw new TlsConfigError(`${path}: unknown field "${k}"`);
    }
  }
  if (ciphers !== undefined) {
    tc.ciphers = cipherSuites(ciphers, `${path}.cipher_suites`, () => allowInsecure, warn);
  }
  if (tc.certs.length > 0 && tc.certFile !== undefined) {
    throw new TlsConfigError(`${path}: cannot combine 'cert_file' option with 'certs' option`);
  }
  if (tc.certFile !== undefined && tc.keyFile === undefined) {
    throw new TlsConfigError(`${path}: missing 'key_file' in TLS configuration`);
  }
  if (tc.certFile === undefined && tc.keyFile !== undefined) {
    throw new TlsConfigError(`${path}: missing 'cert_file' in TLS configuration`);
  }
  if (tc.certFile === undefined && tc.certs.length === 0) {
    throw new TlsConfigError(`${path}: missing 'cert_file' in TLS configuration`);
  }
  return tc;
}

/** The command-line TLS flags, as nats-server reads them. */
export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscert?: string;
  tlskey?: string;
  tlscacert?: string;
}

/**
 * What the --tls* flags mean, in config-block shape: `false` when TLS is switched off (`--tls=false`),
 * undefined when no TLS flag was given, otherwise a `tls { }` block that replaces the config file's.
 */
export function tlsBlockFromFlags(flags: TlsFlags): Record<string, unknown> | false | undefined {
  if (flags.tls === false) return false;
  const given =
    flags.tls !== undefined ||
    flags.tlsverify !== undefined ||
    flags.tlscert !== undefined ||
    flags.tlskey !== undefined ||
    flags.tlscacert !== undefined;
  if (!given) return undefined;
  if (!flags.tlscert) throw new TlsConfigError("TLS Server certificate must be present and valid");
  if (!flags.tlskey) throw new TlsConfigError("TLS Server private key must be present and valid");
  const block: Record<string, unknown> = { cert_file: flags.tlscert, key_file: flags.tlskey };
  if (flags.tlscacert) block.ca_file = flags.tlscacert;
  if (flags.tlsverify) block.verify = true;
  return block;
}
