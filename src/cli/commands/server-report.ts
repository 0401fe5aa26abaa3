// lattice server report connections|jetstream: tables from the monitoring endpoints.

import type { StreamInfo } from "@nats-io/jetstream";
import { type Command, Option } from "commander";
import { action, examples } from "../command-kit.js";
import { resolveConnection, withSession } from "../connect-options.js";
import { type Cell, color, humanBytes, humanTime, note, out, printJson, printTable } from "../output.js";
import { parsePositive } from "../parse.js";
import { fetchMonitor, monitorOption, monitorTarget } from "./server-monitor.js";

interface Connz {
  now?: string;
  num_connections: number;
  total: number;
  connections: Array<{
    cid: number;
    kind?: string;
    ip: string;
    port: number;
    start: string;
    last_activity?: string;
    rtt?: string;
    uptime?: string;
    idle?: string;
    pending_bytes?: number;
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
    subscriptions: number;
    name?: string;
    lang?: string;
    version?: string;
    account?: string;
    authorized_user?: string;
  }>;
}

interface Jsz {
  server_id: string;
  disabled?: boolean;
  config?: { max_memory?: number; max_storage?: number; store_dir?: string };
  memory: number;
  storage: number;
  reserved_memory?: number;
  reserved_storage?: number;
  accounts?: number;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  api?: { total: number; errors: number };
}

const CONN_SORTS = [
  "cid",
  "start",
  "subs",
  "pending",
  "msgs_to",
  "msgs_from",
  "bytes_to",
  "bytes_from",
  "last",
  "idle",
  "uptime",
  "rtt",
];

export function registerReport(server: Command): void {
  const report = server
    .command("report")
    .description("tabular reports from the monitoring endpoint and the JetStream API");
  examples(report, "lattice server report connections", "lattice server report jetstream");

  const conns = report
    .command("connections")
    .alias("conns")
    .description("client connections with their traffic (from /connz)")
    .addOption(monitorOption())
    .addOption(new Option("--sort <field>", "sort by").choices(CONN_SORTS).default("cid"))
    .option("--top <n>", "show this many connections", parsePositive, 100)
    .option("--json", "print the /connz answer as JSON")
    .action(
      action(async (opts: { monitor?: string; sort: string; top: number; json?: boolean }, cmd: Command) => {
        const target = monitorTarget(cmd, opts.monitor);
        const timeoutMs = resolveConnection(cmd).timeoutMs;
        const connz = await fetchMonitor<Connz>(
          target,
          `/connz?sort=${opts.sort}&limit=${opts.top}&auth=true`,
          timeoutMs,
        );
        if (opts.json) {
          printJson(connz);
          return;
        }
        if (connz.connections.length === 0) {
          out(`No client connections (${target.url})`);
          return;
        }
        const rows: Cell[][] = connz.connections.map((c) => [
          c.cid,
          c.name ?? "",
          c.account ?? "",
          `${c.ip}:${c.port}`,
          c.rtt ?? "",
          c.uptime ?? "",
          c.subscriptions,
          c.in_msgs,
          c.out_msgs,
          humanBytes(c.in_bytes),
          humanBytes(c.out_bytes),
          c.lang ? `${c.lang} ${c.version ?? ""}`.trim() : "",
        ]);
        const sum = (f: (c: Connz["connections"][number]) => number) =>
          connz.connections.reduce((a, c) => a + f(c), 0);
        if (rows.length > 0) {
          rows.push([
            "",
            color.bold("Totals"),
            "",
            "",
            "",
            "",
            sum((c) => c.subscriptions),
            sum((c) => c.in_msgs),
            sum((c) => c.out_msgs),
            humanBytes(sum((c) => c.in_bytes)),
            humanBytes(sum((c) => c.out_bytes)),
            "",
          ]);
        }
        printTable(
          [
            "CID",
            "Name",
            "Account",
            "Address",
            "RTT",
            "Uptime",
            "Subs",
            "Msgs In",
            "Msgs Out",
            "Bytes In",
            "Bytes Out",
            "Client",
          ],
          rows,
          `Connections (${connz.num_connections} shown of ${connz.total}, from ${target.url})`,
        );
      }),
    );
  examples(
    conns,
    "lattice server report connections",
    "lattice server report connections --sort bytes_to --top 10 --monitor http://nats1:8222",
  );

  const js = report
    .command("jetstream")
    .alias("js")
    .description(
      "JetStream usage: the server's totals (from /jsz, or the account when that is unreachable) and every stream",
    )
    .addOption(monitorOption())
    .option("--json", "print the report as JSON")
    .action(
      action(async (opts: { monitor?: string; json?: boolean }, cmd: Command) => {
        const target = monitorTarget(cmd, opts.monitor);
        await withSession(cmd, async (s) => {
          let jsz: Jsz | undefined;
          let fallback: string | undefined;
          try {
            jsz = await fetchMonitor<Jsz>(target, "/jsz", s.conn.timeoutMs);
          } catch (err) {
            if (target.explicit) throw err;
            fallback = `${target.url}/jsz is not reachable: showing this account's usage (pass --monitor for the server's)`;
          }
          const jsm = await s.jsm();
          const account = await jsm.getAccountInfo();
          const streams: StreamInfo[] = [];
          for await (const si of jsm.streams.list()) streams.push(si);
          streams.sort((a, b) => a.config.name.localeCompare(b.config.name));
          if (opts.json) {
            printJson({ jsz, account, streams });
            return;
          }
          if (jsz !== undefined) {
            printTable(
              ["Server", "Streams", "Consumers", "Messages", "Bytes", "Memory", "File", "API Req", "API Err"],
              [
                [
                  s.nc.info?.server_name ?? jsz.server_id,
                  jsz.streams,
                  jsz.consumers,
                  jsz.messages,
                  humanBytes(jsz.bytes),
                  humanBytes(jsz.memory),
                  humanBytes(jsz.storage),
                  jsz.api?.total ?? 0,
                  jsz.api?.errors ?? 0,
                ],
              ],
              `JetStream Summary (${target.url}/jsz)`,
            );
          } else {
            printTable(
              ["Account", "Streams", "Consumers", "Memory", "Storage", "API Req", "API Err"],
              [
                [
                  "(this account)",
                  account.streams,
                  account.consumers,
                  `${humanBytes(account.memory)} / ${humanBytes(account.limits.max_memory)}`,
                  `${humanBytes(account.storage)} / ${humanBytes(account.limits.max_storage)}`,
                  account.api.total,
                  account.api.errors,
                ],
              ],
              "JetStream Summary (account)",
            );
          }
          out();
          if (streams.length === 0) out("No streams defined");
          else
            printTable(
              ["Stream", "Storage", "Replicas", "Consumers", "Messages", "Bytes", "Deleted", "Last Message"],
              streams.map((si) => [
                si.config.name,
                si.config.storage === "memory" ? "Memory" : "File",
                si.config.num_replicas,
                si.state.consumer_count,
                si.state.messages,
                humanBytes(si.state.bytes),
                si.state.num_deleted ?? 0,
                si.state.last_seq > 0 ? humanTime(si.state.last_ts) : "never",
              ]),
              `Streams (${streams.length})`,
            );
          if (fallback !== undefined) note(color.dim(fallback, process.stderr));
        });
      }),
    );
  examples(js, "lattice server report jetstream", "lattice server report jetstream --json");
}
