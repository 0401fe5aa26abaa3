// Long runs of the Raft simulation: many seeds, each a cluster under random faults with Raft's safety
// invariants checked after every action and a liveness check once faults stop.
// Run: `npx tsc -p tsconfig.json && node dist/scripts/raft-sim.js --seeds 10000 --steps 1000` (see --help).
import { parseArgs } from "node:util";
import { replayCommand, runSimulation } from "../test/raft/sim/run.js";

const { values: args } = parseArgs({
  options: {
    seeds: { type: "string", default: "1000" },
    steps: { type: "string", default: "1000" },
    from: { type: "string", default: "1" },
    "liveness-ticks": { type: "string", default: "300" },
    verbose: { type: "boolean", default: false },
    "keep-going": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  process.stdout.write(`Usage: node dist/scripts/raft-sim.js [options]

  --seeds N            number of seeds to run (default 1000)
  --from S             first seed (default 1)
  --steps M            ticks of faults per seed (default 1000)
  --liveness-ticks L   ticks allowed after faults stop for a proposal to be applied everywhere (default 300)
  --verbose            print each seed's statistics, and the event trace of a failing seed
  --keep-going         run every seed even after failures
`);
  process.exit(0);
}

const seeds = Number(args.seeds);
const from = Number(args.from);
const steps = Number(args.steps);
const livenessTicks = Number(args["liveness-ticks"]);
const started = Date.now();
const failed: number[] = [];
const totals: Record<string, number> = {};

for (let seed = from; seed < from + seeds; seed++) {
  const result = runSimulation({ seed, steps, livenessTicks, traceLength: args.verbose ? 200 : 0 });
  for (const [key, value] of Object.entries(result.stats)) totals[key] = (totals[key] ?? 0) + value;
  if (args.verbose) {
    process.stdout.write(`seed ${seed}: ${result.ok ? "ok" : "FAILED"} ${JSON.stringify(result.stats)}\n`);
  }
  if (!result.ok) {
    failed.push(seed);
    if (args.verbose) process.stdout.write(`${result.trace.join("\n")}\n`);
    process.stdout.write(`seed ${seed} FAILED: ${result.error}\n  replay: ${replayCommand(seed, steps)}\n`);
    if (!args["keep-going"]) break;
  } else if (!args.verbose && (seed - from + 1) % 100 === 0) {
    process.stdout.write(`${seed - from + 1} seeds ok (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  }
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `${seeds} seeds x ${steps} steps from ${from}: ${failed.length} failed in ${seconds}s; ${JSON.stringify(totals)}\n`,
);
if (failed.length > 0) {
  process.stdout.write(`failed seeds: ${failed.join(" ")}\n`);
  process.exitCode = 1;
}
