// lattice server report connections|jetstream: tables from the monitoring endpoints; routes|leafnodes: every
// server's /routez or /leafz, asked through the system account.

import type { StreamInfo } from "@nats-io/jetstream";
import { type Command, Option } from "commander";
import { action, examples } from "../command-kit.js";
import { resolveConnection, withSession } from "../connect-options.js";
import { type Cell, color, humanBytes, humanTime, note, out, printJson, printTable } from "../output.js";
import { parsePositive } from "../parse.js";
import {
  fetchMonitor,
  monitorOption,
  monitorTarget,
  pingServers,
  type ServerAnswer,
} from "./server-monitor.js";

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

interface Routez {
  server_id: string;
  server_name?: string;
  num_routes: number;
  routes: Array<{
    rid: number;
    remote_id: string;
    remote_name?: string;
    did_solicit: boolean;
    is_configured: boolean;
    ip: string;
    port: number;
    rtt?: string;
    uptime: string;
    pending_size: number;
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
    subscriptions: number;
  }>;
}

interface Leafz {
  server_id: string;
  leafnodes: number;
  leafs: Array<{
    name?: string;
    is_spoke?: boolean;
    account: string;
    ip: string;
    port: number;
    rtt?: string;
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
    subscriptions: number;
  }> | null;
}

/** Errors some servers answered with, as notes under a report. */
function answerErrors(answers: ServerAnswer<unknown>[]): void {
  for (const a of answers)
    if (a.error !== undefined)
      note(
        color.yellow(
          `${a.server.name}: ${a.error.description ?? `error ${a.error.code ?? ""}`}`,
          process.stderr,
        ),
      );
}

/** The short form of a server id in a table (names are what people read; ids are for telling apart). */
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 12)}…` : id);

/** One report over every server's answer to a system-account ping: a row for each item each server lists. */
interface PingReport<T, I> {
  name: string;
  alias?: string;
  description: string;
  /** The ping endpoint (`ROUTEZ`), and its monitoring path for the --json help (`/routez`). */
  endpoint: string;
  path: string;
  items: (data: T) => readonly I[] | null | undefined;
  row: (server: string, item: I) => Cell[];
  headings: string[];
  /** What the rows are, for the table title (`Routes`) and the empty note (`No routes`). */
  title: string;
  none: string;
  examples: string[];
}

function registerPingReport<T, I>(report: Command, spec: PingReport<T, I>): void {
  const command = report.command(spec.name);
  if (spec.alias !== undefined) command.alias(spec.alias);
  command
    .description(spec.description)
    .option("--expect <n>", "stop waiting once this many servers answered", parsePositive)
    .option("--json", `print each server's ${spec.path} as JSON`)
    .action(
      action(async (opts: { expect?: number; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const answers = await pingServers<T>(s.nc, spec.endpoint, {
            timeoutMs: s.conn.timeoutMs,
            expect: opts.expect,
          });
          if (opts.json) {
            printJson(answers);
            return;
          }
          const rows: Cell[][] = [];
          for (const a of answers) {
            const items = a.data == null ? undefined : spec.items(a.data); // null: a server that answered no data
            for (const item of items ?? []) rows.push(spec.row(a.server.name, item));
          }
          const servers = answers.length;
          if (rows.length === 0) out(`${spec.none}: ${servers} server${servers === 1 ? "" : "s"} answered`);
          else
            printTable(
              spec.headings,
              rows,
              `${spec.title} (${rows.length} on ${servers} server${servers === 1 ? "" : "s"})`,
            );
          answerErrors(answers);
        });
      }),
    );
  examples(command, ...spec.examples);
}

/** A link's traffic, as the columns headed TRAFFIC. */
const TRAFFIC = ["Subs", "Msgs In", "Msgs Out", "Bytes In", "Bytes Out"];
function traffic(t: {
  subscriptions: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}): Cell[] {
  return [t.subscriptions, t.in_msgs, t.out_msgs, humanBytes(t.in_bytes), humanBytes(t.out_bytes)];
}

function registerClusterReports(report: Command): void {
  registerPingReport<Routez, Routez["routes"][number]>(report, {
    name: "routes",
    description:
      "every server's routes with their traffic (each server's /routez, through the system account)",
    endpoint: "ROUTEZ",
    path: "/routez",
    items: (d) => d.routes,
    row: (server, r) => [
      server,
      r.remote_name || shortId(r.remote_id),
      `${r.ip}:${r.port}`,
      r.is_configured ? "configured" : r.did_solicit ? "dialled" : "accepted",
      r.rtt ?? "",
      r.uptime,
      ...traffic(r),
      humanBytes(r.pending_size),
    ],
    headings: ["Server", "Route To", "Address", "Kind", "RTT", "Uptime", ...TRAFFIC, "Pending"],
    title: "Routes",
    none: "No routes",
    examples: [
      "lattice --user sys --password sys server report routes",
      "lattice server report routes --json",
    ],
  });

  registerPingReport<Leafz, NonNullable<Leafz["leafs"]>[number]>(report, {
    name: "leafnodes",
    alias: "leafs",
    description:
      "every server's leaf-node links with their traffic (each server's /leafz, through the system account)",
    endpoint: "LEAFZ",
    path: "/leafz",
    items: (d) => d.leafs,
    row: (server, l) => [
      server,
      l.name ?? "",
      // is_spoke: the answering server is the spoke of this link, so the other side is its hub.
      l.is_spoke === undefined ? "" : l.is_spoke ? "hub" : "spoke",
      l.account,
      `${l.ip}:${l.port}`,
      l.rtt ?? "",
      ...traffic(l),
    ],
    headings: ["Server", "Leaf Node", "Remote Is", "Account", "Address", "RTT", ...TRAFFIC],
    title: "Leaf-node links",
    none: "No leaf-node links",
    examples: [
      "lattice --user sys --password sys server report leafnodes",
      "lattice server report leafs --json",
    ],
  });
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
  examples(
    report,
    "lattice server report connections",
    "lattice server report jetstream",
    "lattice --user sys --password sys server report routes",
  );

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

  registerClusterReports(report);
}
