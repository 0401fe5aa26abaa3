// lattice server list: every server that answers `$SYS.REQ.SERVER.PING.VARZ` — the whole cluster (each server
// answers over the routes), and what is reached over gateways and leaf nodes — with its cluster, routes and
// leaf nodes. Needs a user of the system account.

import type { Command } from "commander";
import { action, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { type Cell, color, humanBytes, humanDuration, note, printJson, printTable } from "../output.js";
import { parsePositive } from "../parse.js";
import { pingServers, type ServerAnswer, type Varz } from "./server-monitor.js";

/** The /varz fields `server list` reads beyond the common ones. */
export interface ClusterVarz extends Varz {
  host?: string;
  port?: number;
  cluster?: { name?: string };
}

/**
 * Clusters whose servers do not all see each other: in a full mesh every server has a route to each of the
 * others that answered. One line per server short of routes.
 */
export function meshProblems(answers: ServerAnswer<ClusterVarz>[]): string[] {
  const byCluster = new Map<string, ServerAnswer<ClusterVarz>[]>();
  for (const a of answers) {
    const name = a.data?.cluster?.name ?? a.server.cluster;
    if (name === undefined || name === "") continue;
    byCluster.set(name, [...(byCluster.get(name) ?? []), a]);
  }
  const problems: string[] = [];
  for (const [name, members] of byCluster) {
    const want = members.length - 1;
    for (const m of members) {
      const routes = m.data?.routes ?? 0;
      if (routes < want)
        problems.push(
          `cluster ${name}: ${m.server.name} has ${routes} of the ${want} routes a full mesh needs`,
        );
    }
  }
  return problems;
}

export function registerList(server: Command): void {
  const list = server
    .command("list")
    .alias("ls")
    .description(
      "every server of the cluster (and those reached over gateways and leaf nodes), asked through the system account",
    )
    .option("--expect <n>", "stop waiting once this many servers answered", parsePositive)
    .option("--json", "print each server's answer (its /varz) as JSON")
    .action(
      action(async (opts: { expect?: number; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const answers = await pingServers<ClusterVarz>(s.nc, "VARZ", {
            timeoutMs: s.conn.timeoutMs,
            expect: opts.expect,
          });
          if (opts.json) {
            printJson(answers);
            return;
          }
          const rows: Cell[][] = answers.map((a) => {
            const v = a.data;
            return [
              a.server.name,
              v?.cluster?.name ?? a.server.cluster ?? "",
              v?.host !== undefined ? `${v.host}:${v.port ?? ""}` : (a.server.host ?? ""),
              v?.version ?? a.server.ver ?? "",
              a.server.jetstream ? "yes" : "no",
              v?.connections ?? 0,
              v?.subscriptions ?? 0,
              v?.routes ?? 0,
              v?.leafnodes ?? 0,
              humanBytes(v?.mem),
              v?.cpu !== undefined ? `${v.cpu}%` : "",
              v?.uptime ?? "",
              humanDuration(a.rttMs),
              a.error !== undefined ? (a.error.description ?? `error ${a.error.code ?? ""}`) : "",
            ];
          });
          const clusters = new Set(answers.map((a) => a.data?.cluster?.name ?? a.server.cluster ?? ""));
          clusters.delete("");
          const sum = (f: (v: ClusterVarz) => number | undefined) =>
            answers.reduce((n, a) => n + (a.data === undefined ? 0 : (f(a.data) ?? 0)), 0);
          rows.push([
            color.bold("Totals"),
            `${clusters.size} cluster${clusters.size === 1 ? "" : "s"}`,
            "",
            "",
            "",
            sum((v) => v.connections),
            sum((v) => v.subscriptions),
            sum((v) => v.routes),
            sum((v) => v.leafnodes),
            humanBytes(sum((v) => v.mem)),
            "",
            "",
            "",
            "",
          ]);
          const withErrors = answers.some((a) => a.error !== undefined);
          const head = [
            "Name",
            "Cluster",
            "Host",
            "Version",
            "JS",
            "Conns",
            "Subs",
            "Routes",
            "Leafnodes",
            "Mem",
            "CPU",
            "Uptime",
            "RTT",
            "Error",
          ];
          printTable(
            withErrors ? head : head.slice(0, -1),
            withErrors ? rows : rows.map((r) => r.slice(0, -1)),
            `Servers (${answers.length} answered)`,
          );
          for (const p of meshProblems(answers)) note(color.yellow(p, process.stderr));
        });
      }),
    );
  examples(list, "lattice --user sys --password sys server list", "lattice server list --expect 3 --json");
}
