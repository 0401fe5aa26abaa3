// lattice consumer ...: against an embedded Lattice (skipped, by probe, until its consumers land) and against
// nats-server 2.9.10.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Exit } from "../../src/cli/errors.js";
import { admin, jetStreamTargets, lattice, needs, seedStream, uniq } from "./harness.js";

const targets = await jetStreamTargets();
after(() => Promise.all(targets.map((t) => t.close())));

function serverVersion(url: string): Promise<string> {
  return admin(url).then(async (a) => {
    const v = a.nc.info?.version ?? "0.0.0";
    await a.close();
    return v;
  });
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

describe("lattice consumer", { concurrency: true }, () => {
  for (const t of targets) {
    const s = ["-s", t.url];
    const skip = needs(t, "consumers", "JetStream consumers");

    describe(`lattice consumer against ${t.name}`, { concurrency: true }, () => {
      it("add a pull consumer with flags; info, ls, next (acks), edit, rm", { skip }, async () => {
        const stream = uniq("CON");
        await seedStream(
          t.url,
          stream,
          [`${stream}.*`],
          [
            [`${stream}.new`, "one", { k: "v" }],
            [`${stream}.new`, "two"],
            [`${stream}.old`, "skip me"],
            [`${stream}.new`, "three"],
          ],
        );
        const add = await lattice([
          ...s,
          "consumer",
          "add",
          stream,
          "worker",
          "--filter",
          `${stream}.new`,
          "--ack",
          "explicit",
          "--max-deliver",
          "5",
          "--wait",
          "30s",
          "--max-pending",
          "100",
          "--description",
          "the worker",
        ]);
        assert.equal(add.code, 0, add.stderr);
        assert.match(add.stdout, new RegExp(`Information for Consumer ${stream} > worker created`));
        assert.match(add.stdout, /Ack Wait: 30s/);
        const con = (...args: string[]) => lattice([...s, "consumer", ...args]);
        const [infoOut, ls, lsNames] = await Promise.all([
          con("info", stream, "worker", "--json"),
          con("ls", stream),
          con("ls", stream, "--names", "--json"),
        ]);
        const info = JSON.parse(infoOut.stdout) as {
          config: Record<string, unknown>;
          num_pending: number;
        };
        assert.equal(info.config.durable_name, "worker");
        assert.equal(info.config.filter_subject, `${stream}.new`);
        assert.equal(info.config.ack_policy, "explicit");
        assert.equal(info.config.max_deliver, 5);
        assert.equal(info.config.ack_wait, 30e9);
        assert.equal(info.config.max_ack_pending, 100);
        assert.equal(info.config.description, "the worker");
        assert.equal(info.num_pending, 3);

        assert.match(ls.stdout, /│ worker +│ Pull +│ the worker +│/);
        assert.deepEqual(JSON.parse(lsNames.stdout), ["worker"]);

        const next = await lattice([...s, "consumer", "next", stream, "worker", "--count", "2"]);
        assert.equal(next.code, 0, next.stderr);
        assert.match(next.stdout, /\[1\] .*consumer seq 1 .*pending 2/);
        assert.match(next.stdout, /k: v\n\none\n/);
        assert.match(next.stdout, /\[2\] .*two|two/);
        const raw = await lattice([...s, "consumer", "next", stream, "worker", "--raw"]);
        assert.equal(raw.stdout, "three\n");
        const [afterOut, empty, edit, noForce] = await Promise.all([
          con("info", stream, "worker", "--json"),
          con("next", stream, "worker", "--wait", "1s"),
          con("edit", stream, "worker", "--max-deliver", "9", "--json"),
          con("rm", stream, "worker"),
        ]);
        const after = JSON.parse(afterOut.stdout) as {
          ack_floor: { stream_seq: number };
          num_ack_pending: number;
        };
        assert.equal(after.ack_floor.stream_seq, 4);
        assert.equal(after.num_ack_pending, 0);
        assert.equal(empty.code, Exit.TIMEOUT);
        assert.match(empty.stderr, /no messages available/);
        assert.equal(edit.code, 0, edit.stderr);
        assert.equal((JSON.parse(edit.stdout) as { config: { max_deliver: number } }).config.max_deliver, 9);
        assert.equal(noForce.code, Exit.USAGE);
        const rm = await lattice([...s, "consumer", "rm", stream, "worker", "-f"]);
        assert.equal(rm.stdout, `Deleted consumer ${stream} > worker\n`);
        const gone = await lattice([...s, "consumer", "info", stream, "worker"]);
        assert.equal(gone.code, Exit.FAILED);
        assert.equal(gone.stderr, "lattice: error: consumer not found (JetStream error 10014, status 404)\n");
      });

      it("--no-ack leaves messages pending; --deliver picks the start; push consumers are not pulled", {
        skip,
      }, async () => {
        const stream = uniq("CON2");
        await seedStream(
          t.url,
          stream,
          [`${stream}.>`],
          [
            [`${stream}.a`, "1"],
            [`${stream}.a`, "2"],
            [`${stream}.a`, "3"],
          ],
        );
        const late = await lattice([
          ...s,
          "consumer",
          "add",
          stream,
          "late",
          "--deliver",
          "3",
          "--backoff",
          "1s,5s",
          "--max-deliver",
          "3",
        ]);
        assert.equal(late.code, 0, late.stderr);
        assert.match(late.stdout, /Backoff: 1s, 5s/);
        const n = await lattice([...s, "consumer", "next", stream, "late", "--no-ack", "--json"]);
        assert.equal(n.code, 0, n.stderr);
        const m = JSON.parse(n.stdout) as { seq: number; data: string };
        assert.deepEqual([m.seq, m.data], [3, "3"]);
        const info = JSON.parse(
          (await lattice([...s, "consumer", "info", stream, "late", "--json"])).stdout,
        ) as {
          num_ack_pending: number;
          config: { deliver_policy: string; opt_start_seq: number };
        };
        assert.equal(info.num_ack_pending, 1);
        assert.equal(info.config.deliver_policy, "by_start_sequence");
        assert.equal(info.config.opt_start_seq, 3);

        const push = await lattice([
          ...s,
          "consumer",
          "add",
          stream,
          "pusher",
          "--target",
          `deliver.${stream}`,
          "--deliver",
          "new",
        ]);
        assert.equal(push.code, 0, push.stderr);
        assert.match(push.stdout, /Type: Push/);
        const pulled = await lattice([...s, "consumer", "next", stream, "pusher"]);
        assert.equal(pulled.code, Exit.FAILED);
        assert.match(pulled.stderr, /is a push consumer: subscribe to its delivery subject instead/);

        const missing = await lattice([...s, "consumer", "add", uniq("NOSTREAM"), "x"]);
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, /stream not found \(JetStream error 10059, status 404\)/);
        assert.equal((await lattice([...s, "consumer", "add", stream])).code, Exit.USAGE);
      });

      it("next --count with --ack (default), --nak, --term; partial batches and an empty consumer", {
        skip,
      }, async () => {
        const stream = uniq("NEXT");
        await seedStream(
          t.url,
          stream,
          [`${stream}.>`],
          [1, 2, 3, 4].map((i): [string, string] => [`${stream}.a`, `m${i}`]),
        );
        const con = (...args: string[]) => lattice([...s, "consumer", ...args]);
        assert.equal((await con("add", stream, "w")).code, 0);
        const [both, noAckNak] = await Promise.all([
          con("next", stream, "w", "--nak", "--term"),
          con("next", stream, "w", "--no-ack", "--nak"),
        ]);
        assert.equal(both.code, Exit.USAGE);
        assert.match(both.stderr, /--nak and --term cannot be combined/);
        assert.equal(noAckNak.code, Exit.USAGE);

        const two = await con("next", stream, "w", "--count", "2", "--ack", "--raw");
        assert.equal(two.code, 0, two.stderr);
        assert.equal(two.stdout, "m1\nm2\n");
        // --nak: delivered again at once; --term: never again.
        const nak = await con("next", stream, "w", "--nak", "--raw");
        assert.equal(nak.stdout, "m3\n");
        const again = await con("next", stream, "w", "--term", "--raw");
        assert.equal(again.stdout, "m3\n");
        const rest = await con("next", stream, "w", "--count", "5", "--wait", "1s");
        assert.equal(rest.code, 0, rest.stderr);
        assert.match(rest.stdout, /m4/);
        assert.match(rest.stderr, /received 1 of 5 messages/);
        const empty = await con("next", stream, "w", "--wait", "500ms");
        assert.equal(empty.code, Exit.TIMEOUT);
        assert.match(empty.stderr, /no messages available from /);
        const info = JSON.parse((await con("info", stream, "w", "--json")).stdout) as {
          num_ack_pending: number;
          num_pending: number;
          ack_floor: { stream_seq: number };
        };
        assert.equal(info.num_ack_pending, 0);
        assert.equal(info.num_pending, 0);
        assert.equal(info.ack_floor.stream_seq, 4);

        // edit shows what changed, and says when nothing would.
        const edit = await con("edit", stream, "w", "--max-deliver", "5", "--description", "batch worker");
        assert.equal(edit.code, 0, edit.stderr);
        assert.match(
          edit.stdout,
          new RegExp(
            `^Consumer ${stream} > w was updated:\n  description: \\(unset\\) -> "batch worker"\n  max_deliver: -1 -> 5\n`,
          ),
        );
        const same = await con("edit", stream, "w", "--max-deliver", "5");
        assert.equal(same.code, 0, same.stderr);
        assert.match(same.stderr, new RegExp(`Consumer ${stream} > w: nothing to change`));
      });

      it("pause and resume (servers before 2.11 get a clear error)", { skip }, async () => {
        const stream = uniq("PAUSE");
        await seedStream(t.url, stream, [`${stream}.>`]);
        assert.equal((await lattice([...s, "consumer", "add", stream, "w"])).code, 0);
        const version = await serverVersion(t.url);
        const r = await lattice([...s, "--timeout", "2s", "consumer", "pause", stream, "w", "1h"]);
        if (t.name === "nats-server" && !atLeast(version, 2, 11)) {
          assert.equal(r.code, Exit.FAILED);
          assert.equal(
            r.stderr,
            `lattice: error: the server did not answer: pausing consumers needs nats-server 2.11 or later (this server says ${version})\n`,
          );
          return;
        }
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Paused consumer .* until /);
        const info = JSON.parse(
          (await lattice([...s, "consumer", "info", stream, "w", "--json"])).stdout,
        ) as { paused?: boolean };
        assert.equal(info.paused, true);
        const resume = await lattice([...s, "consumer", "resume", stream, "w"]);
        assert.equal(resume.code, 0, resume.stderr);
      });
    });
  }
});
