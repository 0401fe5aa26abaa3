// The server's identity as nats-server presents it: an nkey public key with the server prefix ("N...").
// Built from node:crypto's native ed25519 key generation; the pure-JS nkeys generator costs ~30 ms of startup.
import { generateKeyPairSync } from "node:crypto";

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

/** Encode a 32-byte ed25519 public key as a server nkey. */
export function encodeServerKey(publicKey: Uint8Array): string {
  const raw = new Uint8Array(1 + publicKey.length + 2);
  raw[0] = SERVER_PREFIX_BYTE;
  raw.set(publicKey, 1);
  const crc = crc16(raw.subarray(0, 1 + publicKey.length));
  raw[raw.length - 2] = crc & 0xff;
  raw[raw.length - 1] = crc >>> 8;
  return base32(raw);
}

/** A fresh server identity. The private half is discarded: the server signs nothing with it. */
export function newServerId(): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return encodeServerKey(Buffer.from(jwk.x ?? "", "base64url"));
}
