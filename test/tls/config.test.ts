import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FlagError, parseServerFlags } from "../../src/cli/flags.js";
import { applyConfig, OptionsError, validateOptions } from "../../src/config/server-options.js";
import { defaultOptions } from "../../src/server/options.js";
import { TlsConfigError, tlsOptionsFromConfig } from "../../src/tls/index.js";
import { type CertFiles, hasOpenssl, makeCerts } from "./certs.js";

const base = { cert_file: "/c.pem", key_file: "/k.pem" };

function parse(block: Record<string, unknown>, warnings: string[] = []) {
  return tlsOptionsFromConfig(block, (w) => warnings.push(w));
}

describe("tls { } block", () => {
  it("reads files, verify and timeout with nats-server defaults", () => {
    const o = parse({ ...base, ca_file: "/ca.pem" });
    assert.equal(o.certFile, "/c.pem");
    assert.equal(o.keyFile, "/k.pem");
    assert.equal(o.caFile, "/ca.pem");
    assert.equal(o.verify, false);
    assert.equal(o.map, false);
    assert.equal(o.timeoutMs, 2000);
    assert.equal(o.handshakeFirst, false);
    assert.equal(parse({ ...base, timeout: 0.5 }).timeoutMs, 500);
    assert.equal(parse({ ...base, timeout: "3s" }).timeoutMs, 3000);
    assert.equal(parse({ ...base, timeout: 0 }).timeoutMs, 2000);
    assert.equal(parse({ ...base, VERIFY: true }).verify, true);
  });

  it("verify_and_map implies verify", () => {
    const o = parse({ ...base, verify_and_map: true });
    assert.equal(o.verify, true);
    assert.equal(o.map, true);
    assert.equal(parse({ ...base, verify_and_map: true, verify: false }).verify, true);
  });

  it("handshake_first takes booleans, auto and durations, under its aliases", () => {
    assert.deepEqual(
      [parse({ ...base, handshake_first: true })].map((o) => [o.handshakeFirst, o.handshakeFirstFallbackMs]),
      [[true, 0]],
    );
    const auto = parse({ ...base, handshake_first: "auto" });
    assert.deepEqual([auto.handshakeFirst, auto.handshakeFirstFallbackMs], [true, 50]);
    const dur = parse({ ...base, first: "300ms" });
    assert.deepEqual([dur.handshakeFirst, dur.handshakeFirstFallbackMs], [true, 300]);
    assert.equal(parse({ ...base, immediate: "false" }).handshakeFirst, false);
    assert.throws(() => parse({ ...base, handshake_first: "sometimes" }), TlsConfigError);
    assert.throws(() => parse({ ...base, handshake_first: 5 }), /boolean or a string/);
  });

  it("maps min_version, cipher suites and curves onto Node's names", () => {
    assert.equal(parse({ ...base, min_version: "1.3" }).minVersion, "TLSv1.3");
    assert.throws(() => parse({ ...base, min_version: "1.1" }), /unsupported TLS version: TLS 1.1/);
    assert.throws(() => parse({ ...base, min_version: "2" }), /unknown version: 2/);
    const o = parse({
      ...base,
      cipher_suites: [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      ],
      curve_preferences: ["CurveP256", "X25519"],
    });
    assert.deepEqual(o.ciphers, ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"]);
    assert.deepEqual(o.curves, ["P-256", "X25519"]);
    assert.throws(() => parse({ ...base, cipher_suites: ["TLS_FOO"] }), /unrecognized cipher TLS_FOO/);
    assert.throws(() => parse({ ...base, cipher_suites: [] }), /cannot be empty/);
    assert.throws(
      () => parse({ ...base, curve_preferences: ["P256"] }),
      /unrecognized curve preference P256/,
    );
  });

  it("warns about names Node cannot use and drops them", () => {
    const warnings: string[] = [];
    const o = parse({ ...base, curve_preferences: ["X25519MLKEM768", "CurveP384"] }, warnings);
    assert.deepEqual(o.curves, ["P-384"]);
    assert.match(warnings.join("\n"), /X25519MLKEM768 is not available/);
  });

  it("checks pinned certificates and certificate lists like nats-server", () => {
    const pin = "a".repeat(64);
    assert.deepEqual(parse({ ...base, pinned_certs: [pin.toUpperCase()] }).pinnedCerts, [pin]);
    assert.throws(
      () => parse({ ...base, pinned_certs: ["abc"] }),
      /'pinned_certs'|key abc does not look like hex-encoded sha256/,
    );
    const multi = parse({ certs: [{ cert_file: "/a.pem", key_file: "/a.key" }] });
    assert.deepEqual(multi.certs, [{ certFile: "/a.pem", keyFile: "/a.key" }]);
    assert.throws(
      () => parse({ ...base, certs: [{ cert_file: "/a.pem", key_file: "/a.key" }] }),
      /cannot combine 'cert_file' option with 'certs' option/,
    );
    assert.throws(() => parse({ certs: [{ cert_file: "/a.pem" }] }), /both 'cert_file' and 'key_file'/);
  });

  it("refuses incomplete or unknown settings", () => {
    assert.throws(() => parse({ cert_file: "/c.pem" }), /missing 'key_file' in TLS configuration/);
    assert.throws(() => parse({ key_file: "/k.pem" }), /missing 'cert_file' in TLS configuration/);
    assert.throws(() => parse({ verify: true }), /missing 'cert_file'/);
    assert.throws(() => parse({ ...base, foo: 1 }), /unknown field "foo"/);
    assert.throws(() => parse({ ...base, ocsp_peer: true }), /OCSP peer verification is not supported/);
    assert.throws(() => parse({ ...base, verify: "maybe" }), /tls.verify: expected a boolean/);
    assert.throws(() => parse({ ...base, cert_file: 3 }), /tls.cert_file: expected a file name/);
  });
});

describe("TLS in server options and flags", () => {
  it("applies tls and allow_non_tls, in either order", () => {
    const opts = applyConfig(
      defaultOptions(),
      { allow_non_tls: true, tls: { ...base, verify: true } },
      () => {},
    );
    assert.equal(opts.allowNonTls, true);
    assert.equal(opts.tls?.verify, true);
    assert.equal(applyConfig(opts, { tls: false }, () => {}).tls, undefined);
  });

  it("wraps tls block errors as option errors", () => {
    assert.throws(() => applyConfig(defaultOptions(), { tls: { verify: 1 } }, () => {}), OptionsError);
  });

  it("turns --tls* flags into a tls block that replaces the file's", () => {
    const f = parseServerFlags(["--tls", "--tlscert", "/c.pem", "--tlskey=/k.pem"]);
    assert.deepEqual(f.overrides.tls, { cert_file: "/c.pem", key_file: "/k.pem" });
    assert.deepEqual(f.unsupported, []);
    const v = parseServerFlags([
      "-tlsverify",
      "-tlscert",
      "/c.pem",
      "-tlskey",
      "/k.pem",
      "-tlscacert",
      "/ca.pem",
    ]);
    assert.deepEqual(v.overrides.tls, {
      cert_file: "/c.pem",
      key_file: "/k.pem",
      ca_file: "/ca.pem",
      verify: true,
    });
    assert.equal(parseServerFlags(["--tls=false", "--tlscert", "/c.pem"]).overrides.tls, false);
    assert.equal(parseServerFlags(["-p", "4222"]).overrides.tls, undefined);
  });

  it("refuses TLS flags without a certificate and key, as nats-server does", () => {
    assert.throws(() => parseServerFlags(["--tls"]), FlagError);
    assert.throws(() => parseServerFlags(["--tls"]), /TLS Server certificate must be present and valid/);
    assert.throws(
      () => parseServerFlags(["--tlsverify", "--tlscert", "/c.pem"]),
      /TLS Server private key must be present and valid/,
    );
  });
});

describe("certificate files", { skip: !hasOpenssl() && "openssl is not installed" }, () => {
  let certs: CertFiles;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.remove());

  function validate(tls: Record<string, unknown>): void {
    const opts = applyConfig(defaultOptions(), { tls }, () => {});
    validateOptions(opts);
  }

  it("accepts a matching certificate and key", () => {
    validate({ cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca });
  });

  it("refuses to start with a missing file, naming it", () => {
    const missing = `${certs.dir}/nope.pem`;
    assert.throws(
      () => validate({ cert_file: missing, key_file: certs.serverKey }),
      (err: Error) => err instanceof OptionsError && err.message.includes(`open ${missing}: no such file`),
    );
    assert.throws(() => validate({ cert_file: certs.serverCert, key_file: missing }), /nope\.pem/);
    assert.throws(
      () => validate({ cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: missing }),
      /tls\.ca_file: open .*nope\.pem: no such file or directory/,
    );
  });

  it("refuses a key that does not match the certificate, or a CA file without certificates", () => {
    assert.throws(
      () => validate({ cert_file: certs.serverCert, key_file: certs.aliceKey }),
      /private key .*alice-key\.pem does not match .*server\.pem/,
    );
    assert.throws(
      () => validate({ cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.serverKey }),
      /failed to parse root ca certificate/,
    );
    assert.throws(
      () => validate({ cert_file: certs.serverKey, key_file: certs.serverKey }),
      /server-key\.pem/,
    );
  });
});
