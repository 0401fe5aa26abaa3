// verify_and_map: which configured user a client certificate stands for. Tried in nats-server's order:
// SAN e-mail addresses, SAN DNS names, SAN URIs (each by exact user name), then the subject as a
// distinguished name compared attribute by attribute with every user name that parses as a DN (same order
// first, then any order), then the subject as the text nats-server prints (Go's RFC 2253-style rendering,
// `CN=alice,OU=dev,O=Acme\, Inc.,C=US`, with any `DC=` components appended).
import type { X509Certificate } from "node:crypto";
import { children, decodeOid, decodeString, readTlv, type Tlv } from "./der.js";

interface Attribute {
  readonly oid: string;
  /** Undefined when the value is not a string type. */
  readonly value: string | undefined;
}

export interface CertIdentity {
  /** Subject RDNs in certificate (DER) order. */
  readonly rdns: readonly (readonly Attribute[])[];
  readonly emails: readonly string[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
}

const OID_CN = "2.5.4.3";
const OID_SERIALNUMBER = "2.5.4.5";
const OID_C = "2.5.4.6";
const OID_L = "2.5.4.7";
const OID_ST = "2.5.4.8";
const OID_STREET = "2.5.4.9";
const OID_O = "2.5.4.10";
const OID_OU = "2.5.4.11";
const OID_POSTALCODE = "2.5.4.17";
const OID_DC = "0.9.2342.19200300.100.1.25";
const OID_SAN = "2.5.29.17";

/** Short names for attribute types, used for the subject text and for DN comparison. */
const TYPE_NAMES: Record<string, string> = {
  [OID_CN]: "CN",
  [OID_SERIALNUMBER]: "SERIALNUMBER",
  [OID_C]: "C",
  [OID_L]: "L",
  [OID_ST]: "ST",
  [OID_STREET]: "STREET",
  [OID_O]: "O",
  [OID_OU]: "OU",
  [OID_POSTALCODE]: "POSTALCODE",
  [OID_DC]: "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "EMAILADDRESS",
};

/** Long or alternative spellings a configured DN may use, upper-cased. */
const TYPE_ALIASES: Record<string, string> = {
  COMMONNAME: "CN",
  COUNTRYNAME: "C",
  LOCALITYNAME: "L",
  S: "ST",
  STATEORPROVINCENAME: "ST",
  STREETADDRESS: "STREET",
  ORGANIZATIONNAME: "O",
  ORGANIZATIONALUNITNAME: "OU",
  POSTALCODE: "POSTALCODE",
  DOMAINCOMPONENT: "DC",
  USERID: "UID",
  E: "EMAILADDRESS",
};

function canonicalType(t: string): string {
  const name = TYPE_NAMES[t];
  if (name !== undefined) return name;
  const upper = t.toUpperCase();
  return TYPE_ALIASES[upper] ?? upper;
}

function tbsFields(der: Uint8Array): Tlv[] {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  const fields = children(der, tbs);
  // Skip the explicit [0] version when present.
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

/** Subject RDNs and SAN entries of a DER certificate. Throws DerError on malformed input. */
export function certIdentityFromDer(der: Uint8Array): CertIdentity {
  const fields = tbsFields(der);
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [1], [2], [3] extensions
  const subject = fields[4];
  const rdns = children(der, subject).map((set) =>
    children(der, set).map((atv) => {
      const [type, value] = children(der, atv);
      return { oid: decodeOid(der, type), value: decodeString(der, value) };
    }),
  );
  const emails: string[] = [];
  const dnsNames: string[] = [];
  const uris: string[] = [];
  const ext = fields.find((f) => f.tag === 0xa3);
  if (ext !== undefined) {
    for (const e of children(der, children(der, ext)[0])) {
      const parts = children(der, e);
      if (decodeOid(der, parts[0]) !== OID_SAN) continue;
      const octets = parts[parts.length - 1];
      const names = readTlv(der, octets.start, octets.end);
      for (const gn of children(der, names)) {
        const text = Buffer.from(der.buffer, der.byteOffset + gn.start, gn.end - gn.start).toString("latin1");
        if (gn.tag === 0x81) emails.push(text);
        else if (gn.tag === 0x82) dnsNames.push(text);
        else if (gn.tag === 0x86) uris.push(text);
      }
    }
  }
  return { rdns, emails, dnsNames, uris };
}

export function certIdentity(cert: X509Certificate): CertIdentity {
  return certIdentityFromDer(cert.raw);
}

/** Go's escaping of one attribute value in a pkix RDN sequence string. */
function escapeValue(v: string): string {
  let out = "";
  const chars = [...v];
  chars.forEach((c, i) => {
    const special =
      c === "," ||
      c === "+" ||
      c === '"' ||
      c === "\\" ||
      c === "<" ||
      c === ">" ||
      c === ";" ||
      (c === " " && (i === 0 || i === chars.length - 1)) ||
      (c === "#" && i === 0);
    out += special ? `\\${c}` : c;
  });
  return out;
}

/**
 * The subject as nats-server renders it for verify_and_map (Go's parsed pkix.Name turned back into an RDN
 * sequence): standard attributes only, regrouped as SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C.
 */
export function subjectString(id: CertIdentity): string {
  let cn = "";
  let serial = "";
  const groups: Record<string, string[]> = {
    [OID_C]: [],
    [OID_ST]: [],
    [OID_L]: [],
    [OID_STREET]: [],
    [OID_POSTALCODE]: [],
    [OID_O]: [],
    [OID_OU]: [],
  };
  for (const rdn of id.rdns) {
    for (const a of rdn) {
      if (a.value === undefined) continue;
      if (a.oid === OID_CN) cn = a.value;
      else if (a.oid === OID_SERIALNUMBER) serial = a.value;
      else groups[a.oid]?.push(a.value);
    }
  }
  const seq: string[] = [];
  for (const oid of [OID_C, OID_ST, OID_L, OID_STREET, OID_POSTALCODE, OID_O, OID_OU]) {
    const values = groups[oid];
    if (values.length > 0) seq.push(values.map((v) => `${TYPE_NAMES[oid]}=${escapeValue(v)}`).join("+"));
  }
  if (cn !== "") seq.push(`CN=${escapeValue(cn)}`);
  if (serial !== "") seq.push(`SERIALNUMBER=${escapeValue(serial)}`);
  return seq.reverse().join(",");
}

/** `DC=a,DC=b` for the subject's domain components, in certificate order. */
function domainComponents(id: CertIdentity): string {
  const dcs: string[] = [];
  for (const rdn of id.rdns) {
    for (const a of rdn) if (a.oid === OID_DC && a.value !== undefined) dcs.push(`DC=${a.value}`);
  }
  return dcs.join(",");
}

interface DnAttribute {
  readonly type: string;
  readonly value: string;
}
type Dn = DnAttribute[][];

/** The subject as a DN in RFC 4514 order (last RDN first); undefined if a value is not a string. */
function subjectDn(id: CertIdentity): Dn | undefined {
  const dn: Dn = [];
  for (let i = id.rdns.length - 1; i >= 0; i--) {
    const rdn = id.rdns[i];
    if (rdn.length === 0) continue;
    const attrs: DnAttribute[] = [];
    for (let j = rdn.length - 1; j >= 0; j--) {
      const a = rdn[j];
      if (a.value === undefined) return undefined;
      attrs.push({ type: canonicalType(a.oid), value: a.value });
    }
    dn.push(attrs);
  }
  return dn;
}

const SPECIALS = new Set([" ", '"', "#", "+", ",", ";", "<", "=", ">", "\\"]);

/** An RFC 4514 distinguished name (`CN=alice,O=Acme\, Inc.`), or undefined if `s` is not one. */
export function parseDn(s: string): Dn | undefined {
  const dn: Dn = [];
  let rdn: DnAttribute[] = [];
  let type: string | undefined;
  let bytes: number[] = [];
  let trailingSpaces = 0;
  const take = (): string => {
    const text = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString("utf8");
    bytes = [];
    trailingSpaces = 0;
    return text;
  };
  const pushChar = (c: string) => {
    for (const b of Buffer.from(c, "utf8")) bytes.push(b);
  };
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) return undefined;
      trailingSpaces = 0;
      if (SPECIALS.has(next)) {
        pushChar(next);
        i++;
        continue;
      }
      const hex = `${next}${chars[i + 2] ?? ""}`;
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c === "=" && type === undefined) {
      type = take();
      if (type === "") return undefined;
      // A BER-encoded value (`#04...`) is not supported.
      if (chars[i + 1] === "#") return undefined;
    } else if (c === "," || c === "+") {
      if (type === undefined) return undefined;
      rdn.push({ type: canonicalType(type), value: take() });
      type = undefined;
      if (c === ",") {
        dn.push(rdn);
        rdn = [];
      }
    } else if (c === " " && bytes.length === 0) {
      // Leading spaces are not part of a type or value.
    } else {
      trailingSpaces = c === " " ? trailingSpaces + 1 : 0;
      pushChar(c);
    }
  }
  if (type === undefined) {
    // Nothing after a final `,` is tolerated; a dangling value without a type is not.
    return bytes.length === 0 && rdn.length === 0 && dn.length > 0 ? dn : undefined;
  }
  rdn.push({ type: canonicalType(type), value: take() });
  dn.push(rdn);
  return dn;
}

function rdnEqual(a: readonly DnAttribute[], b: readonly DnAttribute[]): boolean {
  const has = (list: readonly DnAttribute[], x: DnAttribute) =>
    list.some((y) => y.type === x.type && y.value === x.value);
  return a.length === b.length && a.every((x) => has(b, x)) && b.every((x) => has(a, x));
}

function dnEqual(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnEqual(rdn, b[i]));
}

/** Same RDNs in any order. */
function dnSameRdns(a: Dn, b: Dn): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((rdn) => {
    const j = b.findIndex((other, k) => !used[k] && rdnEqual(rdn, other));
    if (j < 0) return false;
    used[j] = true;
    return true;
  });
}

export interface CertMatch {
  user: string;
  /** What matched, for logs: "email", "SAN", "URI", "DN" or "subject". */
  via: string;
}

/**
 * The user (one of `users`, the names allowed on this connection) that the certificate maps to, or undefined.
 */
export function mapCertificateToUser(id: CertIdentity, users: ReadonlySet<string>): CertMatch | undefined {
  for (const e of id.emails) if (users.has(e)) return { user: e, via: "email" };
  for (const d of id.dnsNames) if (users.has(d)) return { user: d, via: "SAN" };
  for (const u of id.uris) if (users.has(u)) return { user: u, via: "URI" };
  const certDn = subjectDn(id);
  if (certDn !== undefined && certDn.length > 0) {
    const parsed: [string, Dn][] = [];
    for (const name of users) {
      const dn = parseDn(name);
      if (dn !== undefined) parsed.push([name, dn]);
    }
    for (const [name, dn] of parsed) if (dnEqual(dn, certDn)) return { user: name, via: "DN" };
    for (const [name, dn] of parsed) if (dnSameRdns(dn, certDn)) return { user: name, via: "DN" };
  }
  const subject = subjectString(id);
  const dcs = domainComponents(id);
  if (dcs !== "") {
    const withDcs = `${subject},${dcs}`;
    if (users.has(withDcs)) return { user: withDcs, via: "subject" };
  }
  if (users.has(subject)) return { user: subject, via: "subject" };
  return undefined;
}

const VIA_TEXT: Record<string, string> = {
  email: "email found in cert",
  SAN: "SAN found in cert",
  URI: "URI found in cert",
  DN: "DistinguishedNameMatch",
  subject: "certificate subject",
};

/**
 * The verify_and_map hook for one connection (see ConnectCredentials.tlsMap): maps the transport's client
 * certificate to one of the user names offered; `debug` gets nats-server's log lines.
 */
export function certificateUserMapper(
  transport: { readonly peerCertificate?: X509Certificate | undefined },
  debug: (msg: string) => void,
): (users: ReadonlySet<string>) => string | undefined {
  return (users) => {
    const cert = transport.peerCertificate;
    if (cert === undefined) {
      debug("User required in cert, no peer certificates found");
      return undefined;
    }
    let id: CertIdentity;
    try {
      id = certIdentity(cert);
    } catch (err) {
      debug(`User required in cert, certificate not readable: ${(err as Error).message}`);
      return undefined;
    }
    const m = mapCertificateToUser(id, users);
    if (m === undefined) {
      debug(`User in cert [${JSON.stringify(subjectString(id))}], not found`);
      return undefined;
    }
    debug(`Using ${VIA_TEXT[m.via]} for auth [${JSON.stringify(m.user)}]`);
    return m.user;
  };
}
