// Traffic through a leaf link, checked with official clients: pub/sub and request-reply both ways.
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { sleep, waitFor } from "../helpers/wait.js";

/** Until a request to `subject` gets an answer (the interest crossed the link). */
export async function reachable(nc: NatsConnection, subject: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await nc.request(subject, "", { timeout: 500 });
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 8000, intervalMs: 50, what },
  );
}

/** Messages and requests from each side to the other, on subjects under `tag`. */
export async function trafficBothWays(hub: NatsConnection, leaf: NatsConnection, tag: string): Promise<void> {
  const sides = [
    { name: "hub", nc: hub, other: "leaf" },
    { name: "leaf", nc: leaf, other: "hub" },
  ] as const;
  const got: Record<string, string[]> = { hub: [], leaf: [] };
  const subs = sides.flatMap(({ name, nc }) => [
    nc.subscribe(`${tag}.to.${name}`, {
      callback: (_e, m) => {
        got[name].push(m.string());
      },
    }),
    nc.subscribe(`${tag}.svc.${name}`, {
      callback: (_e, m) => {
        m.respond(`${name} got ${m.string()}`);
      },
    }),
  ]);
  for (const { name, nc, other } of sides) {
    await nc.flush();
    const peer = sides.find((s) => s.name === other)!.nc;
    await reachable(peer, `${tag}.svc.${name}`, `the ${name}'s service from the ${other}`);
  }
  for (const { name, nc, other } of sides) {
    for (let k = 0; k < 3; k++) nc.publish(`${tag}.to.${other}`, `${name}${k}`);
    const r = await nc.request(`${tag}.svc.${other}`, name, { timeout: 3000 });
    assert.equal(r.string(), `${other} got ${name}`);
  }
  await waitFor(() => got.hub.length === 3 && got.leaf.length === 3, { what: "messages both ways" });
  await sleep(50);
  assert.deepEqual(got.hub, ["leaf0", "leaf1", "leaf2"]);
  assert.deepEqual(got.leaf, ["hub0", "hub1", "hub2"]);
  for (const s of subs) s.unsubscribe();
  await Promise.all([hub.flush(), leaf.flush()]);
}
