import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { parseDn } from "../../src/tls/cert-map.js";
import { certIdentity, mapCertificateToUser, subjectString } from "../../src/tls/index.js";
import { type CertFiles, hasOpenssl, makeCerts } from "./certs.js";

describe("RFC 4514 names", () => {
  it("parses escapes, multi-valued RDNs and spaces", () => {
    assert.deepEqual(parseDn("CN=alice,O=Synadia\\, Inc."), [
      [{ type: "CN", value: "alice" }],
      [{ type: "O", value: "Synadia, Inc." }],
    ]);
    assert.deepEqual(parseDn("cn=a+uid=7 , o = x\\2Cy "), [
      [
        { type: "CN", value: "a" },
        { type: "UID", value: "7" },
      ],
      [{ type: "O", value: "x,y" }],
    ]);
    assert.deepEqual(parseDn("commonName=a"), [[{ type: "CN", value: "a" }]]);
  });

  it("is not fooled by names that are not DNs", () => {
    assert.equal(parseDn("alice"), undefined);
    assert.equal(parseDn("alice@example.com"), undefined);
    assert.equal(parseDn("CN=#0403616263"), undefined);
    assert.equal(parseDn("CN=a\\"), undefined);
  });
});

describe("verify_and_map certificate identities", {
  skip: !hasOpenssl() && "openssl is not installed",
}, () => {
  let certs: CertFiles;
  let alice: X509Certificate;
  let bob: X509Certificate;
  before(() => {
    certs = makeCerts();
    alice = new X509Certificate(readFileSync(certs.aliceCert));
    bob = new X509Certificate(readFileSync(certs.bobCert));
  });
  after(() => certs.remove());

  it("reads the subject and SAN entries", () => {
    const id = certIdentity(alice);
    assert.deepEqual(id.emails, ["alice@example.com"]);
    assert.deepEqual(id.dnsNames, ["alice.example.com"]);
    assert.deepEqual(id.uris, []);
    assert.equal(id.rdns.length, 5);
  });

  it("renders the subject as nats-server prints it", () => {
    assert.equal(subjectString(certIdentity(alice)), "CN=alice,OU=nats.io,O=Synadia\\, Inc.,ST=CA,C=US");
    // Go's rendering leaves domain components out (nats-server appends them separately).
    assert.equal(subjectString(certIdentity(bob)), "CN=bob,OU=dev,O=Lattice");
  });

  it("tries e-mail, then DNS names, then the subject", () => {
    const id = certIdentity(alice);
    const all = new Set([
      "alice.example.com",
      "alice@example.com",
      "CN=alice,OU=nats.io,O=Synadia\\, Inc.,ST=CA,C=US",
    ]);
    assert.deepEqual(mapCertificateToUser(id, all), { user: "alice@example.com", via: "email" });
    assert.deepEqual(mapCertificateToUser(id, new Set(["alice.example.com"])), {
      user: "alice.example.com",
      via: "SAN",
    });
    assert.equal(mapCertificateToUser(id, new Set(["alice"])), undefined);
  });

  it("matches distinguished names exactly, reordered, or as Go's subject text", () => {
    const id = certIdentity(bob);
    for (const name of [
      "CN=bob,OU=dev,O=Lattice,DC=example,DC=org",
      "cn=bob, ou=dev, o=Lattice, dc=example, dc=org",
      "DC=org,DC=example,O=Lattice,OU=dev,CN=bob",
    ]) {
      assert.deepEqual(mapCertificateToUser(id, new Set(["someone", name])), { user: name, via: "DN" }, name);
    }
    assert.deepEqual(mapCertificateToUser(id, new Set(["CN=bob,OU=dev,O=Lattice"])), {
      user: "CN=bob,OU=dev,O=Lattice",
      via: "subject",
    });
    assert.equal(mapCertificateToUser(id, new Set(["CN=bob,OU=dev,O=Lattice,DC=example"])), undefined);
    assert.equal(mapCertificateToUser(id, new Set(["CN=Bob,OU=dev,O=Lattice,DC=example,DC=org"])), undefined);
  });

  it("matches a DN with an escaped comma", () => {
    const id = certIdentity(alice);
    const name = "CN=alice,OU=nats.io,O=Synadia\\, Inc.,ST=CA,C=US";
    assert.deepEqual(mapCertificateToUser(id, new Set([name])), { user: name, via: "DN" });
  });
});
