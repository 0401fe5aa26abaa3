import { runConsumerBench } from "./dist/bench/consumer-bench.js";
const t = await runConsumerBench(["lattice", "nats"], null, { messages: 100000, kvOps: 50000, repeat: 1 }, (m) => console.error(m));
console.log(t);
process.exit(0);
