// Test certificates, made with the openssl CLI into a temporary directory (never checked in).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertFiles {
  dir: string;
  ca: string;
  /** Server certificate for 127.0.0.1 and localhost, signed by `ca`. */
  serverCert: string;
  serverKey: string;
  /** A second server certificate, for other.test only, signed by `ca`. */
  otherServerCert: string;
  otherServerKey: string;
  /** alice: subject C=US,ST=CA,O=Synadia\, Inc.,OU=nats.io,CN=alice; SAN email + DNS; signed by `ca`. */
  aliceCert: string;
  aliceKey: string;
  /** bob: subject DC=org,DC=example,O=Lattice,OU=dev,CN=bob (no SAN); signed by `ca`. */
  bobCert: string;
  bobKey: string;
  /** A CA nobody trusts, and a client certificate it signed. */
  otherCa: string;
  /** Server certificate for 127.0.0.1 and localhost signed by `otherCa` (a certificate rotation). */
  rotatedServerCert: string;
  rotatedServerKey: string;
  malloryCert: string;
  malloryKey: string;
  remove(): void;
}

let available: boolean | undefined;

export function hasOpenssl(): boolean {
  if (available === undefined) {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A P-256 key and a certificate request for `subject`. */
function request(dir: string, name: string, subject: string): void {
  openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
}

function selfSigned(dir: string, name: string, subject: string): void {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    subject,
  ]);
}

function sign(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}-key.pem`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
}

export function makeCerts(): CertFiles {
  const dir = mkdtempSync(join(tmpdir(), "lattice-tls-"));
  selfSigned(dir, "ca", "/CN=Lattice Test CA/O=Lattice");
  selfSigned(dir, "other-ca", "/CN=Other CA/O=Elsewhere");
  request(dir, "server", "/CN=localhost");
  sign(dir, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  request(dir, "other-server", "/CN=other.test");
  sign(dir, "other-server", "ca", "subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth\n");
  request(dir, "alice", "/C=US/ST=CA/O=Synadia, Inc./OU=nats.io/CN=alice");
  sign(
    dir,
    "alice",
    "ca",
    "subjectAltName=email:alice@example.com,DNS:alice.example.com\nextendedKeyUsage=clientAuth\n",
  );
  request(dir, "bob", "/DC=org/DC=example/O=Lattice/OU=dev/CN=bob");
  sign(dir, "bob", "ca", "extendedKeyUsage=clientAuth\n");
  request(dir, "rotated-server", "/CN=localhost");
  sign(
    dir,
    "rotated-server",
    "other-ca",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  request(dir, "mallory", "/CN=mallory");
  sign(dir, "mallory", "other-ca", "extendedKeyUsage=clientAuth\n");
  const f = (n: string) => join(dir, n);
  return {
    dir,
    ca: f("ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server-key.pem"),
    otherServerCert: f("other-server.pem"),
    otherServerKey: f("other-server-key.pem"),
    aliceCert: f("alice.pem"),
    aliceKey: f("alice-key.pem"),
    bobCert: f("bob.pem"),
    bobKey: f("bob-key.pem"),
    otherCa: f("other-ca.pem"),
    rotatedServerCert: f("rotated-server.pem"),
    rotatedServerKey: f("rotated-server-key.pem"),
    malloryCert: f("mallory.pem"),
    malloryKey: f("mallory-key.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
