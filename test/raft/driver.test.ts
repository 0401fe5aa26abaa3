// Raft groups running for real: three members on three servers of a cluster, talking over the routes,
// with their logs on disk. A leader is elected, proposals are applied in the same order everywhere, the
// group survives its leader stopping, and a member restarted from its directory catches up (from a
// snapshot when the log it missed was compacted away).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type RunningServer, startCluster } from "../../src/index.js";
import { Logger } from "../../src/logger.js";
import { RaftNode, type StateMachine } from "../../src/raft/driver.js";
import { RaftTransport } from "../../src/raft/route-transport.js";
import type { Entry } from "../../src/raft/types.js";
import { waitFor } from "../helpers/wait.js";

/** A list of applied strings, snapshotted as JSON. */
class ListMachine implements StateMachine {
  items: string[] = [];
  apply(e: Entry): void {
    this.items.push(Buffer.from(e.data).toString());
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(Buffer.from(data).toString()) as string[];
  }
}

function transportOf(s: RunningServer): RaftTransport {
  const sys = s.server.accounts.get(s.server.systemAccountName ?? "$SYS");
  assert.ok(sys);
  const t = new RaftTransport(s.server.createInternalClient("raft", sys), s.server.id);
  t.start();
  return t;
}

const quiet = new Logger({ quiet: true });

describe("raft nodes over routes", () => {
  it("elect, replicate, fail over and catch up from disk", { timeout: 60_000 }, async () => {
    const cluster = await startCluster({ servers: 3 });
    const root = mkdtempSync(join(tmpdir(), "lattice-raft-driver-"));
    const nodes: (RaftNode | undefined)[] = [];
    try {
      const servers = cluster.servers;
      const ids = servers.map((s) => s.server.id);
      const transports = servers.map(transportOf);
      const machines = servers.map(() => new ListMachine());
      const start = (i: number) => {
        nodes[i] = new RaftNode({
          group: "T1",
          self: ids[i],
          dir: join(root, String(i)),
          transport: transports[i],
          machine: machines[i],
          logger: quiet,
          initialConfig: { voters: [...ids].sort(), learners: [] },
          tickMs: 20,
          snapshotEvery: 50,
        });
      };
      for (let i = 0; i < 3; i++) start(i);
      const leaderIndex = async (): Promise<number> => {
        let found = -1;
        await waitFor(
          () => {
            found = nodes.findIndex((n) => n?.isLeader === true);
            return found >= 0;
          },
          { what: "a leader", timeoutMs: 10_000 },
        );
        return found;
      };

      let l = await leaderIndex();
      for (let k = 0; k < 120; k++) await nodes[l]!.propose(Buffer.from(`a${k}`));
      await waitFor(() => machines.every((m) => m.items.length === 120), { what: "120 applied everywhere" });
      assert.deepEqual(machines[0].items, machines[1].items);
      assert.deepEqual(machines[1].items, machines[2].items);

      // A follower proposing is told who leads.
      const follower = (l + 1) % 3;
      await assert.rejects(nodes[follower]!.propose(Buffer.from("x")), /not the leader|leader/i);

      // The leader stops: the other two elect a new one and go on.
      nodes[l]!.stop();
      const stoppedIndex = l;
      nodes[l] = undefined;
      l = await leaderIndex();
      assert.notEqual(l, stoppedIndex);
      for (let k = 0; k < 80; k++) await nodes[l]!.propose(Buffer.from(`b${k}`));

      // The stopped member comes back from its directory and catches up (the log it missed was compacted,
      // so it gets a snapshot).
      machines[stoppedIndex] = new ListMachine();
      transports[stoppedIndex].stop();
      transports[stoppedIndex] = transportOf(servers[stoppedIndex]);
      start(stoppedIndex);
      await waitFor(() => machines[stoppedIndex].items.length === 200, {
        what: "the restarted member caught up",
        timeoutMs: 15_000,
      });
      assert.deepEqual(machines[stoppedIndex].items, machines[l].items);
      assert.equal(machines[stoppedIndex].items[199], "b79");
    } finally {
      for (const n of nodes) n?.stop();
      await cluster.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
