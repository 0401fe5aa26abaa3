// The server's identity as nats-server presents it: an nkey public key with the server prefix ("N...").
// Built from node:crypto's native ed25519 key generation; the pure-JS nkeys generator costs ~30 ms of startup,
// so the nkeys key pair (needed only to sign auth callout requests) is made from the same seed on first use.
import { generateKeyPairSync } from "node:crypto";
import type { KeyPair } from "@nats-io/nkeys";
import { nkeys } from "../auth/lazy-libs.js";

const SERVER_PREFIX_BYTE = 13 << 3; // 'N' once base32-encoded
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** CRC-16/XMODEM, the checksum nkeys append to every encoded key. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Prefix bytes + key + CRC-16 (little endian), base32: the nkeys text encoding. */
function encodeKey(prefix: number[], key: Uint8Array): string {
  const raw = new Uint8Array(prefix.length + key.length + 2);
  raw.set(prefix, 0);
  raw.set(key, prefix.length);
  const crc = crc16(raw.subarray(0, prefix.length + key.length));
  raw[raw.length - 2] = crc & 0xff;
  raw[raw.length - 1] = crc >>> 8;
  return base32(raw);
}

/** Encode a 32-byte ed25519 public key as a server nkey. */
export function encodeServerKey(publicKey: Uint8Array): string {
  return encodeKey([SERVER_PREFIX_BYTE], publicKey);
}

/** Encode a 32-byte ed25519 seed as a server seed ("SN..."): seed prefix and role packed into two bytes. */
function encodeServerSeed(seed: Uint8Array): string {
  const SEED_PREFIX_BYTE = 18 << 3; // 'S'
  return encodeKey([SEED_PREFIX_BYTE | (SERVER_PREFIX_BYTE >> 5), (SERVER_PREFIX_BYTE & 31) << 3], seed);
}

/** A server identity: its public nkey now, its nkeys key pair when something needs to sign. */
export class ServerIdentity {
  readonly id: string;
  private readonly seed: Uint8Array;
  private pair: KeyPair | undefined;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    this.id = encodeServerKey(Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url"));
    this.seed = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  }

  /** The key pair whose public key is `id`. */
  get keyPair(): KeyPair {
    this.pair ??= nkeys().fromSeed(new TextEncoder().encode(encodeServerSeed(this.seed)));
    return this.pair;
  }
}

/** A fresh server id (public key only). */
export function newServerId(): string {
  return new ServerIdentity().id;
}
