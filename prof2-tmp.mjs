import { connect, createInbox } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { readFileSync } from "node:fs";
const port = process.argv[2], pid = process.argv[3];
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) / 100; };
const nc = await connect({ servers: "127.0.0.1:" + port });
const jsm = await jetstreamManager(nc); const js = jetstream(nc);
await jsm.streams.add({ name: "P", subjects: ["p"] });
const N = 100000; const pl = new Uint8Array(128);
let inf = [];
for (let i = 0; i < N; i++) { inf.push(js.publish("p", pl)); if (inf.length >= 1000) { await Promise.all(inf); inf = []; } }
await Promise.all(inf);
for (let r = 0; r < 3; r++) {
const inbox = createInbox(); let got = 0; let t0 = performance.now(); const c0 = cpu();
const done = new Promise((res) => nc.subscribe(inbox, { callback: (_e, m) => { if (m.headers?.code === 100) { if (m.reply) m.respond(); return; } if (++got === N) res(); } }));
await jsm.consumers.add("P", { name: "x"+r, deliver_subject: inbox, ack_policy: AckPolicy.None, flow_control: true, idle_heartbeat: 5e9 });
await done; const el = (performance.now() - t0) / 1000; console.log("push", Math.round(N / el), "server cpu s", (cpu() - c0).toFixed(2), "of", el.toFixed(2));
}
{ await jsm.consumers.add("P", { durable_name: "f", ack_policy: AckPolicy.Explicit });
const c = await js.consumers.get("P", "f"); let got = 0; let t0 = performance.now(); const c0 = cpu();
while (got < N) { for await (const m of await c.fetch({ max_messages: 500, expires: 5000 })) { m.ack(); got++; } }
const el = (performance.now() - t0) / 1000; console.log("fetch", Math.round(N / el), "server cpu s", (cpu() - c0).toFixed(2), "of", el.toFixed(2)); }
await nc.close();
