// Routes between Lattice servers: a full mesh learned from one seed, traffic across every pair, queue groups
// spread over the cluster, interest that follows subscriptions, servers that leave and come back, refused
// routes, clients failing over to a survivor, a partition healed through a TCP proxy, and kill -9.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { freePort } from "../helpers/nats-cluster.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { httpJson, sleep, waitFor } from "../helpers/wait.js";
import { collect, Env, T } from "./helpers.js";

const SERVER_BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));
const CLUSTER = "lattice-routes";

/** A cluster member's options: named, on a fixed cluster port, with its configured routes. */
function node(
  name: string,
  clusterPort: number,
  routes: string[],
  extra: { cluster?: Record<string, unknown>; [k: string]: unknown } = {},
): Record<string, unknown> {
  const { cluster, ...rest } = extra;
  return {
    server_name: name,
    cluster: { name: CLUSTER, listen: `127.0.0.1:${clusterPort}`, routes, ...(cluster ?? {}) },
    ...rest,
  };
}

function routeUrl(port: number): string {
  return `nats-route://127.0.0.1:${port}`;
}

async function ports(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort());
  return out;
}

async function waitMesh(
  servers: RunningServer[],
  want = servers.length - 1,
  timeoutMs = 8000,
): Promise<void> {
  await waitFor(() => servers.every((s) => s.server.cluster!.routes.size === want), {
    timeoutMs,
    what: `${want} routes on each server (have ${servers.map((s) => `${s.server.name}=${s.server.cluster!.routes.size}`).join(" ")})`,
  });
}

/** Subscriptions that the routes of `s` hold for its peers (all of them, or one subject and queue). */
function routeSubs(s: RunningServer, subject?: string, queue?: string): number {
  let n = 0;
  for (const r of s.server.cluster!.routes.values())
    for (const { sub } of r.remoteSubscriptions())
      if (subject === undefined || (sub.subject === subject && sub.queue === queue)) n++;
  return n;
}

/** Subscriptions in the global account of `s` (its clients' and its peers'). */
function gCount(s: RunningServer): number {
  return s.server.globalAccount.sublist.count;
}

/** Subscriptions in `$G` of `s` that its route to `peer` holds (the peer's interest there). */
function gFrom(s: RunningServer, peer: RunningServer): number {
  const route = s.server.cluster!.routes.get(peer.server.id);
  let n = 0;
  for (const sub of s.server.globalAccount.sublist.subscriptions()) if (sub.owner === route) n++;
  return n;
}

/** Route-owned subscriptions in `$G` that no registered route stands behind (left over from a closed one). */
function staleRouteSubs(s: RunningServer): number {
  const live = new Set<unknown>(s.server.cluster!.routes.values());
  let n = 0;
  for (const sub of s.server.globalAccount.sublist.subscriptions())
    if (sub.owner.kind === "route" && !live.has(sub.owner)) n++;
  return n;
}

/** Errors a server logs from now on. */
function captureErrors(s: RunningServer): string[] {
  const lines: string[] = [];
  const logger = s.server.logger;
  const original = logger.error.bind(logger);
  logger.error = (msg: string) => {
    lines.push(msg);
    original(msg);
  };
  return lines;
}

function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort();
}

describe("routes", () => {
  it(
    "three servers seeded by the first form a full mesh; clients see it; traffic crosses every pair",
    T,
    async () => {
      const env = new Env();
      try {
        const [pa, pb, pc] = await ports(3);
        const seed = routeUrl(pa);
        // Each names only the first as its route (the first names itself, which it ignores).
        const a = await env.server(node("a", pa, [seed]));
        const b = await env.server(node("b", pb, [seed]));
        const c = await env.server(node("c", pc, [seed]));
        const all = [a, b, c];
        await waitMesh(all, 2);
        for (const s of all) {
          const others = all.filter((o) => o !== s).map((o) => o.server.id);
          assert.deepEqual(sorted(s.server.cluster!.routes.keys()), sorted(others), s.server.name);
        }

        // INFO tells a client of A every server's client URL, and its pool holds all three.
        const ncs = [await env.client(a), await env.client(b), await env.client(c)];
        const want = sorted(all.map((s) => `127.0.0.1:${s.port}`));
        await waitFor(() => sorted(ncs[0].info?.connect_urls ?? []).join() === want.join(), {
          what: "connect_urls with the three servers",
        });
        await waitFor(() => sorted(ncs[0].getServers().map((x) => x.listen)).join() === want.join(), {
          what: "the client's pool with the three servers",
        });
        assert.ok(ncs[0].getServers().some((x) => x.gossiped));

        // On each server: a service that answers with its name and echoes a header, and a plain subscriber.
        const names = ["a", "b", "c"];
        const received: { data: string; from: string | undefined }[][] = [[], [], []];
        for (const [j, nc] of ncs.entries()) {
          nc.subscribe(`svc.${names[j]}`, {
            callback: (_e, m) => {
              const h = headers();
              h.set("X-Echo", m.headers?.get("X-From") ?? "");
              h.set("X-Server", names[j]);
              m.respond(`${names[j]} got ${m.string()}`, { headers: h });
            },
          });
          nc.subscribe(`data.${names[j]}`, {
            callback: (_e, m) => {
              received[j].push({ data: m.string(), from: m.headers?.get("X-From") });
            },
          });
          await nc.flush();
        }
        await waitFor(
          () =>
            all.every((s, i) =>
              names.every(
                (n, j) => i === j || (routeSubs(s, `svc.${n}`) === 1 && routeSubs(s, `data.${n}`) === 1),
              ),
            ),
          { what: "every server to see the others' subscriptions" },
        );
        for (const [i, nc] of ncs.entries()) {
          for (const j of [0, 1, 2]) {
            if (i === j) continue;
            const h = headers();
            h.set("X-From", names[i]);
            nc.publish(`data.${names[j]}`, `${names[i]}->${names[j]}`, { headers: h });
            const r = await nc.request(`svc.${names[j]}`, `hello from ${names[i]}`, {
              timeout: 3000,
              headers: h,
            });
            assert.equal(r.string(), `${names[j]} got hello from ${names[i]}`);
            assert.equal(r.headers?.get("X-Echo"), names[i]);
            assert.equal(r.headers?.get("X-Server"), names[j]);
          }
        }
        await waitFor(() => received.every((r) => r.length >= 2), { what: "each plain subscriber to get 2" });
        await sleep(100);
        for (const [j, r] of received.entries()) {
          const others = names.filter((_, i) => i !== j);
          assert.deepEqual(
            sorted(r.map((x) => `${x.from}:${x.data}`)),
            sorted(others.map((o) => `${o}:${o}->${names[j]}`)),
          );
        }

        // Two matching subscriptions on C: each gets every message, the route carries each message once.
        const wide = collect(ncs[2], "dup.>");
        const exact = collect(ncs[2], "dup.x");
        await ncs[2].flush();
        await waitFor(() => routeSubs(a, "dup.>") === 1 && routeSubs(a, "dup.x") === 1, {
          what: "A to see both of C's subscriptions",
        });
        const route = a.server.cluster!.routes.get(c.server.id)!;
        const before = route.stats.outMsgs;
        for (let k = 0; k < 10; k++) ncs[0].publish("dup.x", `m${k}`);
        await ncs[0].flush();
        await waitFor(() => wide.length === 10 && exact.length === 10, {
          what: "10 messages on each subscription",
        });
        await sleep(100);
        assert.equal(wide.length, 10);
        assert.equal(exact.length, 10);
        assert.equal(route.stats.outMsgs - before, 10);
      } finally {
        await env.close();
      }
    },
  );

  it(
    "a queue group with a member on each server shares 3,000 requests from all three, none lost or doubled",
    T,
    async () => {
      const env = new Env();
      try {
        const [pa, pb, pc] = await ports(3);
        const seed = routeUrl(pa);
        const all = [
          await env.server(node("qa", pa, [])),
          await env.server(node("qb", pb, [seed])),
          await env.server(node("qc", pc, [seed])),
        ];
        await waitMesh(all);
        const members = await Promise.all(all.map((s) => env.client(s)));
        const callers = await Promise.all(all.map((s) => env.client(s)));
        const got: string[][] = [[], [], []];
        for (const [j, nc] of members.entries()) {
          nc.subscribe("work", {
            queue: "workers",
            callback: (_e, m) => {
              got[j].push(m.string());
              m.respond(String(j));
            },
          });
          await nc.flush();
        }
        await waitFor(() => all.every((s) => routeSubs(s, "work", "workers") === 2), {
          what: "each server to see the two remote members",
        });
        // Warm up each caller's reply subscription, then count from zero.
        for (const nc of callers) await nc.request("work", "warmup", { timeout: 3000 });
        for (const g of got) g.length = 0;

        const PER_CALLER = 1000;
        const failures: string[] = [];
        const answeredBy = [0, 0, 0];
        await Promise.all(
          callers.map(async (nc, i) => {
            for (let k = 0; k < PER_CALLER; k += 100) {
              await Promise.all(
                Array.from({ length: 100 }, async (_, n) => {
                  const id = `${i}-${k + n}`;
                  try {
                    const r = await nc.request("work", id, { timeout: 5000 });
                    answeredBy[Number(r.string())]++;
                  } catch (err) {
                    failures.push(`${id}: ${(err as Error).message}`);
                  }
                }),
              );
            }
          }),
        );
        assert.deepEqual(failures, []);
        const total = 3 * PER_CALLER;
        const ids = got.flat();
        assert.equal(ids.length, total, "each request reached exactly one member");
        assert.equal(new Set(ids).size, total, "no request was delivered twice");
        for (const [j, g] of got.entries()) {
          assert.ok(
            g.length >= total * 0.2,
            `member ${j} got ${g.length} of ${total} (${got.map((x) => x.length)})`,
          );
          assert.equal(answeredBy[j], g.length);
        }
      } finally {
        await env.close();
      }
    },
  );

  it(
    "interest follows unsubscribe and shutdown; a server restarted on the same port rejoins with nothing stale",
    T,
    async () => {
      const env = new Env();
      try {
        const [pa, pb, pc] = await ports(3);
        const seed = routeUrl(pa);
        const a = await env.server(node("ia", pa, []));
        const b = await env.server(node("ib", pb, [seed]));
        const c = await env.server(node("ic", pc, [seed]));
        await waitMesh([a, b, c]);
        const ncA = await env.client(a);
        const ncB = await env.client(b);
        const fromA = collect(ncA, "a.one");
        collect(ncB, "b.one");
        await ncA.flush();
        await ncB.flush();

        // Unsubscribing on C removes the interest on A.
        let ncC = await env.client(c);
        await waitFor(() => routeSubs(c, "a.one") === 1 && routeSubs(c, "b.one") === 1);
        const baseA = gCount(a);
        // C's own (internal) interest in $G, which leaves with C.
        const internalC = gFrom(a, c);
        const x = ncC.subscribe("int.x");
        await ncC.flush();
        await waitFor(() => routeSubs(a, "int.x") === 1, { what: "A to see C's int.x" });
        assert.equal(gCount(a), baseA + 1);
        x.unsubscribe();
        await ncC.flush();
        await waitFor(() => routeSubs(a, "int.x") === 0, { what: "A to drop C's int.x" });
        assert.equal(gCount(a), baseA);

        // C's interest, seen by A and B.
        const subscribeC = async (nc: NatsConnection): Promise<string[]> => {
          const one = collect(nc, "c.one");
          collect(nc, "c.two");
          collect(nc, "c.q", "g");
          await nc.flush();
          return one;
        };
        await subscribeC(ncC);
        const seesC = (s: RunningServer) =>
          routeSubs(s, "c.one") === 1 && routeSubs(s, "c.two") === 1 && routeSubs(s, "c.q", "g") === 1;
        await waitFor(() => seesC(a) && seesC(b), { what: "A and B to see C's subscriptions" });
        const withC = [gCount(a), gCount(b)];
        const routeSubsWithC = [routeSubs(a), routeSubs(b)];

        // C shuts down: everything it stood for leaves A and B.
        await ncC.close();
        await c.close();
        await waitMesh([a, b], 1);
        await waitFor(() => routeSubs(a, "c.one") + routeSubs(b, "c.one") === 0, {
          what: "C's interest gone",
        });
        for (const s of [a, b]) {
          assert.equal(routeSubs(s, "c.two") + routeSubs(s, "c.q", "g"), 0);
          assert.equal(staleRouteSubs(s), 0);
        }
        assert.equal(gCount(a), baseA - internalC);

        // A new server on C's cluster port rejoins; its clients subscribe again; the counts are those of before.
        const c2 = await env.server(node("ic", pc, [seed]));
        await waitMesh([a, b, c2]);
        ncC = await env.client(c2);
        const one = await subscribeC(ncC);
        await waitFor(() => seesC(a) && seesC(b), { what: "A and B to see the new C's subscriptions" });
        await waitFor(() => routeSubs(c2, "a.one") === 1 && routeSubs(c2, "b.one") === 1, {
          what: "the new C to learn A's and B's interest",
        });
        assert.deepEqual([gCount(a), gCount(b)], withC);
        assert.deepEqual([routeSubs(a), routeSubs(b)], routeSubsWithC);
        for (const s of [a, b, c2]) assert.equal(staleRouteSubs(s), 0);

        // And traffic crosses exactly once both ways.
        ncA.publish("c.one", "to c");
        ncC.publish("a.one", "to a");
        await waitFor(() => one.length === 1 && fromA.length === 1);
        await sleep(100);
        assert.deepEqual(one, ["to c"]);
        assert.deepEqual(fromA, ["to a"]);
      } finally {
        await env.close();
      }
    },
  );

  it(
    "refuses a route from another cluster and a duplicate server name; ignores a route to itself",
    T,
    async () => {
      const env = new Env();
      try {
        const [pa, pz] = await ports(2);
        const a = await env.server(node("ra", pa, []));
        const errorsA = captureErrors(a);

        // Another cluster name: refused on both ends, no route registered.
        const x = await env.server({
          server_name: "rx",
          cluster: { name: "other-cluster", listen: "127.0.0.1:-1", routes: [routeUrl(pa)] },
        });
        const errorsX = captureErrors(x);
        await waitFor(() => [...errorsA, ...errorsX].some((l) => /cluster name .* does not match/.test(l)), {
          what: "the cluster-name refusal to be logged",
        });
        await sleep(300);
        assert.equal(a.server.cluster!.routes.size, 0);
        assert.equal(x.server.cluster!.routes.size, 0);
        await x.close();

        // The same server_name as A: refused.
        errorsA.length = 0;
        const y = await env.server(node("ra", 0, [routeUrl(pa)], { cluster: { listen: "127.0.0.1:-1" } }));
        const errorsY = captureErrors(y);
        await waitFor(() => [...errorsA, ...errorsY].some((l) => /duplicate name: "ra"/.test(l)), {
          what: "the duplicate-name refusal to be logged",
        });
        await sleep(300);
        assert.equal(a.server.cluster!.routes.size, 0);
        assert.equal(y.server.cluster!.routes.size, 0);
        await y.close();

        // A server whose routes name itself (and A): only the route to A.
        const z = await env.server(node("rz", pz, [routeUrl(pz), routeUrl(pa)]));
        await waitMesh([a, z], 1);
        const selfDialer = () =>
          [...z.server.cluster!.dialerStats()].find((d) => d.url.endsWith(`:${pz}`))?.connects ?? 0;
        await sleep(300);
        const connects = selfDialer();
        await sleep(1000);
        assert.equal(selfDialer(), connects, "the route to itself is not dialled again");
        assert.ok(connects <= 1);
        assert.equal(z.server.cluster!.routes.size, 1);
        assert.ok(z.server.cluster!.routes.has(a.server.id));
        assert.equal(z.server.cluster!.connections.size, 1);
        assert.equal(a.server.cluster!.routes.size, 1);
      } finally {
        await env.close();
      }
    },
  );

  for (const how of ["shutdown", "lame duck"] as const) {
    it(
      `a client of A fails over to a discovered server when A ${how === "shutdown" ? "shuts down" : "enters lame-duck mode"}`,
      T,
      async () => {
        const env = new Env();
        try {
          const [pa, pb, pc] = await ports(3);
          const seed = routeUrl(pa);
          const a = await env.server(
            node("fa", pa, [], { lame_duck_duration: "1s", lame_duck_grace_period: "200ms" }),
          );
          const b = await env.server(node("fb", pb, [seed]));
          const c = await env.server(node("fc", pc, [seed]));
          await waitMesh([a, b, c]);
          // Only A's URL is given: the others come from INFO.
          const nc = await env.client(a, { reconnectTimeWait: 100, maxReconnectAttempts: -1 });
          await waitFor(() => nc.getServers().length === 3, { what: "the client to discover the cluster" });
          const statuses: string[] = [];
          void (async () => {
            for await (const s of nc.status()) statuses.push(s.type);
          })();
          const got = collect(nc, "fo.x");
          await nc.flush();
          const pub = await env.client(b);
          await waitFor(() => routeSubs(b, "fo.x") === 1);
          pub.publish("fo.x", "before");
          await waitFor(() => got.includes("before"));

          if (how === "shutdown") {
            await a.close();
          } else {
            const ldm = a.server.enterLameDuckMode();
            await waitFor(() => statuses.includes("ldm"), { what: "the client to hear of lame-duck mode" });
            // B stops advertising A's URL to its clients.
            await waitFor(() => !(pub.info?.connect_urls ?? []).includes(`127.0.0.1:${a.port}`), {
              what: "B to stop advertising A",
            });
            await ldm;
          }
          await waitFor(() => statuses.includes("reconnect") && nc.info?.port !== a.port, {
            timeoutMs: 8000,
            what: "the client to reconnect to a survivor",
          });
          assert.ok([b.port, c.port].includes(nc.info!.port));
          let n = 0;
          await waitFor(
            () => {
              pub.publish("fo.x", `after-${n++}`);
              return got.some((m) => m.startsWith("after-"));
            },
            { timeoutMs: 8000, intervalMs: 100, what: "the subscription to receive again" },
          );
        } finally {
          await env.close();
        }
      },
    );
  }

  for (const mode of ["blackhole", "reset"] as const) {
    it(
      `a partition between A and B (${mode}) heals: interest converges, one copy per message`,
      T,
      async () => {
        const env = new Env();
        try {
          const [pa, pb, pc] = await ports(3);
          // Route PINGs every 500 ms, so a silent (blackholed) route is found stale in about 1.5 s.
          const fast = { cluster: { ping_interval: "500ms" } };
          const b = await env.server(node("pb", pb, [], fast));
          const proxy = await startTcpProxy({ target: { host: "127.0.0.1", port: pb } });
          env.proxies.push(proxy);
          const a = await env.server(node("pa", pa, [proxy.url("nats-route")], fast));
          await waitMesh([a, b], 1);
          // C only after A-B is up through the proxy, so nobody tells A of B's direct address first.
          const c = await env.server(node("pc", pc, [routeUrl(pa), routeUrl(pb)], fast));
          await waitMesh([a, b, c]);
          const ab = a.server.cluster!.routes.get(b.server.id)!;
          assert.equal(ab.solicitedUrl, proxy.url("nats-route"), "A reaches B through the proxy");

          const ncA = await env.client(a);
          const ncB = await env.client(b);
          const old = ncB.subscribe("part.old");
          collect(ncB, "part.keep");
          await ncB.flush();
          await waitFor(() => routeSubs(a, "part.old") === 1 && routeSubs(a, "part.keep") === 1);
          const fromB = () => a.server.cluster!.routes.get(b.server.id)?.subCount;
          const pre = { fromB: fromB(), gA: gCount(a), gB: gCount(b), routeSubsB: routeSubs(b) };

          proxy.cut({ mode });
          await waitFor(() => a.server.cluster!.routes.size === 1 && b.server.cluster!.routes.size === 1, {
            timeoutMs: 8000,
            what: "A and B to drop their route",
          });
          assert.ok(c.server.cluster!.routes.size === 2, "C keeps both of its routes");
          // Interest changes while A cannot hear of them.
          old.unsubscribe();
          const fresh = collect(ncB, "part.new");
          await ncB.flush();
          await waitFor(() => routeSubs(c, "part.new") === 1 && routeSubs(c, "part.old") === 0);
          assert.equal(routeSubs(a, "part.new"), 0);

          proxy.heal();
          await waitMesh([a, b, c], 2, 10_000);
          await waitFor(() => routeSubs(a, "part.new") === 1 && routeSubs(a, "part.old") === 0, {
            what: "A's view of B's interest to converge",
          });
          ncA.publish("part.new", "once");
          await ncA.flush();
          await waitFor(() => fresh.length === 1);
          await sleep(200);
          assert.deepEqual(fresh, ["once"], "exactly one copy (C never relays route to route)");
          assert.deepEqual(
            { fromB: fromB(), gA: gCount(a), gB: gCount(b), routeSubsB: routeSubs(b) },
            pre,
            "subscription counts are back to their pre-cut values",
          );
          for (const s of [a, b, c]) assert.equal(staleRouteSubs(s), 0);
        } finally {
          await env.close();
        }
      },
    );
  }

  it(
    "kill -9 of a server process: the others keep talking; restarted, it rejoins and receives",
    T,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "lattice-routes-kill-"));
      const children = new Set<ChildProcess>();
      const killAll = () => {
        for (const ch of children) ch.kill("SIGKILL");
      };
      process.once("exit", killAll);
      const clients: NatsConnection[] = [];
      try {
        const cp = await ports(3);
        const kp = await ports(3);
        const mp = await ports(3);
        const confs = [0, 1, 2].map((i) => {
          const path = join(dir, `k${i}.conf`);
          writeFileSync(
            path,
            [
              `server_name: "k${i}"`,
              `listen: "127.0.0.1:${cp[i]}"`,
              `http: "127.0.0.1:${mp[i]}"`,
              "cluster {",
              `  name: "${CLUSTER}-kill"`,
              `  listen: "127.0.0.1:${kp[i]}"`,
              `  routes: ["${routeUrl(kp[0])}"]`,
              "}",
              "",
            ].join("\n"),
          );
          return path;
        });
        const procs: (ChildProcess | undefined)[] = [];
        const launch = (i: number): void => {
          const child = spawn(process.execPath, [SERVER_BIN, "-c", confs[i]], { stdio: "ignore" });
          children.add(child);
          child.once("exit", () => children.delete(child));
          procs[i] = child;
        };
        const numRoutes = async (i: number): Promise<number> =>
          (await httpJson<{ num_routes: number }>(`http://127.0.0.1:${mp[i]}/routez`, 1000)).num_routes;
        const meshed = async (ids: number[], want: number): Promise<boolean> =>
          (await Promise.all(ids.map(numRoutes))).every((n) => n === want);

        for (const i of [0, 1, 2]) launch(i);
        await waitFor(() => meshed([0, 1, 2], 2), {
          timeoutMs: 12_000,
          intervalMs: 100,
          what: "the 3-process mesh",
        });
        const url = (i: number) => `nats://127.0.0.1:${cp[i]}`;
        const nc1 = await connect({ servers: url(1), maxReconnectAttempts: 0 });
        const nc2 = await connect({ servers: url(2), maxReconnectAttempts: 0 });
        clients.push(nc1, nc2);
        const at2 = collect(nc2, "k.two");
        nc2.subscribe("k.svc", {
          callback: (_e, m) => {
            m.respond(`k2:${m.string()}`);
          },
        });
        await nc2.flush();

        // kill -9 the seed: k1 and k2 keep their own route.
        const dead = procs[0]!;
        const exited = new Promise((r) => dead.once("exit", r));
        dead.kill("SIGKILL");
        await exited;
        await waitFor(() => meshed([1, 2], 1), { intervalMs: 100, what: "k1 and k2 to drop k0" });
        let n = 0;
        await waitFor(
          () => {
            nc1.publish("k.two", `m${n++}`);
            return at2.length > 0;
          },
          { intervalMs: 100, what: "k1 -> k2 while k0 is dead" },
        );
        assert.equal((await nc1.request("k.svc", "ping", { timeout: 3000 })).string(), "k2:ping");

        // Restarted with the same config: k1 and k2 dial it again; it receives.
        launch(0);
        await waitFor(() => meshed([0, 1, 2], 2), {
          timeoutMs: 12_000,
          intervalMs: 100,
          what: "k0 to rejoin the mesh",
        });
        const nc0 = await connect({ servers: url(0), maxReconnectAttempts: 0 });
        clients.push(nc0);
        const at0 = collect(nc0, "k.zero");
        await nc0.flush();
        await waitFor(
          () => {
            nc1.publish("k.zero", "from k1");
            nc2.publish("k.zero", "from k2");
            return at0.includes("from k1") && at0.includes("from k2");
          },
          { intervalMs: 100, what: "k0 to receive from k1 and k2" },
        );
        assert.equal((await nc0.request("k.svc", "again", { timeout: 3000 })).string(), "k2:again");
      } finally {
        await Promise.allSettled(clients.map((nc) => nc.close()));
        killAll();
        await Promise.all(
          [...children].map(
            (ch) => new Promise((r) => (ch.exitCode !== null ? r(null) : ch.once("exit", r))),
          ),
        );
        process.off("exit", killAll);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
