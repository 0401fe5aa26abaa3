import assert from "node:assert/strict";
import { test } from "node:test";
import { createServer, fromPublic } from "@nats-io/nkeys";
import { encodeServerKey, newServerId, ServerIdentity } from "../../src/server/server-id.js";

test("server ids are valid server nkeys that nkeys itself decodes", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const id = newServerId();
    assert.match(id, /^N[A-Z2-7]{55}$/);
    assert.equal(fromPublic(id).getPublicKey(), id);
    seen.add(id);
  }
  assert.equal(seen.size, 50);
});

test("encoding a public key matches the nkeys library byte for byte", () => {
  for (let i = 0; i < 20; i++) {
    const kp = createServer();
    const id = kp.getPublicKey();
    const raw = fromPublic(id);
    // Re-encode the 32 raw key bytes recovered from the nkeys encoding.
    const bytes = base32Decode(id).subarray(1, 33);
    assert.equal(encodeServerKey(bytes), raw.getPublicKey());
  }
});

function base32Decode(s: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

test("the identity's nkeys key pair has the id as its public key and signs verifiably", () => {
  for (let i = 0; i < 5; i++) {
    const identity = new ServerIdentity();
    const kp = identity.keyPair;
    assert.equal(kp.getPublicKey(), identity.id);
    const data = new TextEncoder().encode(`nonce-${i}`);
    assert.ok(fromPublic(identity.id).verify(data, kp.sign(data)));
  }
});
