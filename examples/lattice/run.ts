// npm run example:lattice — the lattice example, printed: where each region's calls were served.
import { type CallStats, REGIONS, runExample } from "./lattice.js";

const calls = Number(process.argv[2] ?? 10_000);

function row(label: string, s: CallStats): string {
  const served = REGIONS.map((r) => `${r} ${String(s.servedBy[r]).padStart(6)}`).join("  ");
  return `${label.padEnd(34)} ${served}   retries ${String(s.retries).padStart(3)}   failed ${s.failed}`;
}

const started = Date.now();
const result = await runExample(calls);
console.log(`Lattice example: ${calls.toLocaleString("en-US")} calls per caller to ${"default.kvstore"}\n`);
console.log("1. every region has an instance: calls stay in their region");
for (const s of result.steady) console.log(`   ${row(`callers in ${s.region}`, s)}`);
console.log("2. east's instance stops half-way: east's calls move to another cluster");
console.log(`   ${row("callers in east", result.failover)}`);
console.log("3. the edge's link to its hub is cut: the edge keeps serving its own callers");
console.log(`   ${row("callers behind the leaf (edge)", result.offline)}`);
const failed = [...result.steady, result.failover, result.offline].reduce((n, s) => n + s.failed, 0);
console.log(`\nfailed calls: ${failed}   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 ? 0 : 1);
