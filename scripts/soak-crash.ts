// Crash soak: the kill -9 promise, round after round on one store directory.
//
// Each round starts Lattice on the same store, publishes through the official JetStream client from
// several concurrent publishers (sync and async, a mix of payload sizes, some with Nats-Msg-Id), kills the
// process with SIGKILL at a random moment, restarts it and checks that every acknowledged message of every
// round so far is present and byte-identical, and that the stream continues from the right sequence.
// Run: `npm run soak -- --rounds 50` (see --help).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";

const BIN = fileURLToPath(new URL("../src/cli/lattice-server.js", import.meta.url));

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "20" },
    publishers: { type: "string", default: "8" },
    "min-acks": { type: "string", default: "500" },
    "max-acks": { type: "string", default: "5000" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  process.stdout.write(`Usage: npm run soak -- [options]

  --rounds N       kill -9 / restart rounds (default 20)
  --publishers N   concurrent publishers per round (default 8)
  --min-acks N     acknowledged messages a round waits for at least before the kill (default 500)
  --max-acks N     ... and at most: the kill comes at a random point in between (default 5000)
  --dir DIR        store directory to use (default: a fresh temporary one, removed afterwards)
  --keep           keep the store directory
`);
  process.exit(0);
}

const rounds = Number(args.rounds);
const publishers = Number(args.publishers);
const minAcks = Number(args["min-acks"]);
const maxAcks = Number(args["max-acks"]);
const dir = args.dir ?? mkdtempSync(join(tmpdir(), "lattice-soak-"));
const STREAM = "SOAK";

/** What was acknowledged: sequence -> digest of the payload that was published. */
const acked = new Map<number, string>();

const digest = (data: Uint8Array): string => createHash("sha1").update(data).digest("hex");

function payloadFor(round: number, publisher: number, i: number): Uint8Array {
  // Mostly small, now and then a few KiB, so records straddle block boundaries at varied offsets.
  const size = i % 97 === 0 ? 4096 + ((i * 131) % 8192) : 16 + ((i * 7) % 200);
  const buf = Buffer.alloc(size);
  buf.write(`r${round}-p${publisher}-${i}-`);
  for (let k = 24; k < size; k++) buf[k] = (k * 31 + i + publisher) & 0xff;
  return buf;
}

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [BIN, "-js", "-sd", dir, "-p", "-1", "-a", "127.0.0.1", "--ports_file_dir", dir],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const portsFile = join(dir, `nats-server_${child.pid}.ports`);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const poll = () => {
      try {
        const ports = JSON.parse(readFileSync(portsFile, "utf8")) as { nats: string[] };
        resolve({ child, url: ports.nats[0] as string });
      } catch {
        if (child.exitCode !== null) reject(new Error(`server exited with ${child.exitCode}: ${stderr}`));
        else if (Date.now() > deadline) reject(new Error(`server did not start: ${stderr}`));
        else setTimeout(poll, 10);
      }
    };
    poll();
  });
}

async function publishUntilKilled(nc: NatsConnection, round: number, child: ChildProcess): Promise<number> {
  const js = jetstream(nc);
  const killAt = acked.size + minAcks + Math.floor(Math.random() * (maxAcks - minAcks + 1));
  let stop = false;
  let roundAcks = 0;
  const publisher = async (p: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const data = payloadFor(round, p, i);
      const opts: Parameters<typeof js.publish>[2] = { timeout: 2000 };
      if (i % 5 === 0) opts.msgID = `r${round}-p${p}-${i}`;
      if (i % 11 === 0) {
        const h = headers();
        h.set("Soak-Round", String(round));
        opts.headers = h;
      }
      try {
        const pa = await js.publish(`soak.${p}.${i % 13}`, data, opts);
        if (pa.duplicate) throw new Error(`round ${round}: fresh message ${i} reported as duplicate`);
        acked.set(pa.seq, digest(data));
        roundAcks++;
      } catch (err) {
        if (stop) return;
        throw err;
      }
    }
  };
  const running = Array.from({ length: publishers }, (_, p) => publisher(p));
  const watcher = (async () => {
    while (acked.size < killAt) await new Promise((r) => setTimeout(r, 1));
    child.kill("SIGKILL");
    stop = true;
  })();
  // A publisher fails once the server is gone: that is the point of the round.
  await Promise.allSettled(running);
  stop = true;
  await watcher;
  return roundAcks;
}

async function verify(nc: NatsConnection, round: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info(STREAM);
  const maxAcked = Math.max(0, ...acked.keys());
  if (si.state.last_seq < maxAcked)
    throw new Error(`round ${round}: last_seq ${si.state.last_seq} < highest acknowledged ${maxAcked}`);
  let lost = 0;
  let damaged = 0;
  for (const [seq, want] of acked) {
    const m = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (m === null) lost++;
    else if (digest(m.data) !== want) damaged++;
  }
  if (lost + damaged > 0)
    throw new Error(`round ${round}: ${lost} acknowledged messages lost, ${damaged} damaged`);
  const pa = await jetstream(nc).publish("soak.after", "probe");
  if (pa.seq !== si.state.last_seq + 1)
    throw new Error(`round ${round}: next sequence ${pa.seq}, expected ${si.state.last_seq + 1}`);
  acked.set(pa.seq, digest(Buffer.from("probe")));
}

async function main(): Promise<void> {
  process.stdout.write(`crash soak: ${rounds} rounds, ${publishers} publishers, store ${dir}\n`);
  let { child, url } = await startServer();
  let nc = await connect({ servers: url });
  await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: ["soak.>"] });
  for (let round = 1; round <= rounds; round++) {
    const t0 = Date.now();
    const roundAcks = await publishUntilKilled(nc, round, child);
    await nc.close().catch(() => {});
    ({ child, url } = await startServer());
    const restarted = Date.now();
    nc = await connect({ servers: url });
    await verify(nc, round);
    process.stdout.write(
      `round ${String(round).padStart(3)}: ${roundAcks} acked this round, ${acked.size} in all verified; ` +
        `restart + verify ${Date.now() - restarted} ms (round ${Date.now() - t0} ms)\n`,
    );
  }
  await nc.close();
  child.kill("SIGKILL");
  process.stdout.write(`crash soak passed: ${rounds} rounds, ${acked.size} acknowledged messages intact\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`crash soak FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!args.keep && args.dir === undefined) rmSync(dir, { recursive: true, force: true });
  });
