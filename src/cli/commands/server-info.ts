// lattice server info|ping|check|report|list: look at a running server from the outside, through what any
// client can reach without the system account: the INFO a server sends on connect, the JetStream API, and the
// HTTP monitoring endpoints (/varz, /connz, /jsz); `list` and the cluster reports ask every server through the
// system account. This file has info and ping; check, report and list have their own.

import type { JetStreamAccountStats } from "@nats-io/jetstream";
import type { Command } from "commander";
import { action, examples, sleep } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError } from "../errors.js";
import {
  color,
  humanBytes,
  humanCount,
  humanDuration,
  humanTime,
  note,
  out,
  printJson,
  printSections,
  type Section,
} from "../output.js";
import { parseDuration, parsePositive } from "../parse.js";
import { registerCheck } from "./server-check.js";
import { registerList } from "./server-list.js";
import { fetchMonitor, measureRtt, monitorOption, monitorTarget, type Varz } from "./server-monitor.js";
import { registerReport } from "./server-report.js";

function registerInfo(server: Command): void {
  const info = server
    .command("info")
    .description("show what the server says about itself: its INFO and, when reachable, its /varz statistics")
    .addOption(monitorOption())
    .option("--json", "print INFO, /varz and JetStream account information as JSON")
    .action(
      action(async (opts: { monitor?: string; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const si = s.nc.info;
          if (si === undefined) throw new CliError("the server sent no INFO");
          const rtt = await measureRtt(s.nc);
          const target = monitorTarget(cmd, opts.monitor);
          let varz: Varz | undefined;
          let varzNote: string | undefined;
          try {
            varz = await fetchMonitor<Varz>(target, "/varz", s.conn.timeoutMs);
          } catch (err) {
            if (target.explicit) throw err;
            varzNote = `no statistics: ${target.url}/varz is not reachable (pass --monitor http://host:port)`;
          }
          let js: JetStreamAccountStats | undefined;
          if (si.jetstream) {
            try {
              js = await (await s.jsm()).getAccountInfo();
            } catch {
              js = undefined;
            }
          }
          if (opts.json) {
            printJson({ info: si, rtt_ms: rtt, varz, jetstream_account: js });
            return;
          }
          out(
            color.bold(
              `Server information for ${si.server_name}${si.server_name !== si.server_id ? ` (${si.server_id})` : ""}`,
            ),
          );
          out();
          const sections: Section[] = [
            {
              title: "Process Details",
              rows: [
                ["Version", si.version],
                si.git_commit ? ["Git Commit", si.git_commit] : undefined,
                ["Runtime", si.go],
                ["Protocol", si.proto],
                ["Listening On", `${si.host}:${si.port}`],
                ["Max Payload", humanBytes(si.max_payload)],
                ["Headers", String(si.headers === true)],
                ["JetStream", String(si.jetstream === true)],
                ["Auth Required", String(si.auth_required === true)],
                ["TLS Required", String(si.tls_required === true)],
                si.cluster ? ["Cluster", si.cluster] : undefined,
                si.ldm ? ["Lame Duck Mode", "true"] : undefined,
              ],
            },
            {
              title: "This Connection",
              rows: [
                ["Connected URL", s.nc.getServer()],
                ["Client ID", si.client_id],
                si.client_ip ? ["Client IP", si.client_ip] : undefined,
                ["RTT", humanDuration(rtt)],
              ],
            },
          ];
          if (varz !== undefined) {
            sections.push({
              title: `Statistics (${target.url}/varz)`,
              rows: [
                varz.start ? ["Started", humanTime(varz.start)] : undefined,
                varz.uptime ? ["Uptime", varz.uptime] : undefined,
                varz.cpu !== undefined
                  ? ["CPU", `${varz.cpu}%${varz.cores ? ` of ${varz.cores} cores` : ""}`]
                  : undefined,
                varz.mem !== undefined ? ["Memory", humanBytes(varz.mem)] : undefined,
                ["Connections", humanCount(varz.connections)],
                ["Total Connections", humanCount(varz.total_connections)],
                ["Subscriptions", humanCount(varz.subscriptions)],
                ["Messages In", humanCount(varz.in_msgs)],
                ["Messages Out", humanCount(varz.out_msgs)],
                ["Bytes In", humanBytes(varz.in_bytes)],
                ["Bytes Out", humanBytes(varz.out_bytes)],
                ["Slow Consumers", humanCount(varz.slow_consumers)],
              ],
            });
          }
          if (js !== undefined) {
            sections.push({
              title: "JetStream (this account)",
              rows: [
                js.domain ? ["Domain", js.domain] : undefined,
                ["Memory", `${humanBytes(js.memory)} of ${humanBytes(js.limits.max_memory)}`],
                ["Storage", `${humanBytes(js.storage)} of ${humanBytes(js.limits.max_storage)}`],
                ["Streams", `${humanCount(js.streams)} of ${humanCount(js.limits.max_streams, true)}`],
                ["Consumers", `${humanCount(js.consumers)} of ${humanCount(js.limits.max_consumers, true)}`],
                ["API Requests", humanCount(js.api.total)],
                ["API Errors", humanCount(js.api.errors)],
              ],
            });
          }
          printSections(sections);
          if (varzNote !== undefined) note(color.dim(varzNote, process.stderr));
        });
      }),
    );
  examples(info, "lattice server info", "lattice server info --monitor http://127.0.0.1:8222 --json");
}

// ---------------------------------------------------------------- ping

function registerPing(server: Command): void {
  const ping = server
    .command("ping")
    .description("measure the round trip to the server (PING/PONG)")
    .option("--count <n>", "number of pings", parsePositive, 5)
    .option("--interval <duration>", "time between pings", parseDuration, 1000)
    .option("--json", "print the round trips as JSON")
    .action(
      action(async (opts: { count: number; interval: number; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const rtts: number[] = [];
          const url = s.nc.getServer();
          for (let i = 0; i < opts.count; i++) {
            if (i > 0) await sleep(opts.interval);
            const rtt = await measureRtt(s.nc);
            rtts.push(rtt);
            if (!opts.json) out(`${s.nc.info?.server_name ?? url}: seq=${i + 1} rtt=${humanDuration(rtt)}`);
          }
          const min = Math.min(...rtts);
          const max = Math.max(...rtts);
          const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
          if (opts.json) {
            printJson({
              server: url,
              server_name: s.nc.info?.server_name,
              rtt_ms: rtts,
              min_ms: min,
              avg_ms: avg,
              max_ms: max,
            });
            return;
          }
          out();
          out(`--- ${url} ping statistics ---`);
          out(
            `${rtts.length} pings, rtt min/avg/max = ${humanDuration(min)}/${humanDuration(avg)}/${humanDuration(max)}`,
          );
        });
      }),
    );
  examples(ping, "lattice server ping", "lattice server ping --count 10 --interval 200ms");
}

export function registerServerInfo(program: Command): void {
  const server = program
    .command("server")
    .description(
      "run a server (`lattice server [nats-server flags]`), or look at one: info, ping, check, report, list",
    );
  server.addHelpText(
    "after",
    "\nRunning a server takes nats-server's flags (see `lattice server --help`).\n\nExamples:\n  $ lattice server -p 4222 -m 8222 -js -sd ./data\n  $ lattice server info\n  $ lattice server check connection\n  $ lattice --user sys --password sys server list\n",
  );
  registerInfo(server);
  registerPing(server);
  registerCheck(server);
  registerReport(server);
  registerList(server);
}
