// nats-server's command-line flags, with Go `flag` package rules: one or two dashes, `-p 4222`,
// `-p=4222`, boolean flags take no separate value (`-js`, `-DV`, `-T=false`).
import { type TlsFlags, tlsBlockFromFlags } from "../tls/config.js";

export interface ServerFlags {
  configFile?: string;
  testConfig: boolean;
  help: boolean;
  version: boolean;
  signal?: string;
  /** Flag values that override the config file, keyed by config-file option name. */
  overrides: Record<string, unknown>;
  /** Flags accepted for compatibility whose feature Lattice does not have yet. */
  unsupported: string[];
}

type FlagSpec = { key: string; kind: "string" | "int" | "bool" | "ignore-value" | "unsupported" };

const FLAGS: Record<string, FlagSpec> = {};
function def(names: string[], key: string, kind: FlagSpec["kind"]): void {
  for (const n of names) FLAGS[n] = { key, kind };
}

def(["a", "addr", "net", "host"], "host", "string");
def(["p", "port"], "port", "int");
def(["n", "name", "server_name"], "server_name", "string");
def(["P", "pid"], "pid_file", "string");
def(["m", "http_port"], "http_port", "int");
def(["ms", "https_port"], "https_port", "int");
def(["c", "config"], "config", "string");
def(["t"], "test", "bool");
def(["sl", "signal"], "signal", "string");
def(["client_advertise"], "client_advertise", "string");
def(["ports_file_dir"], "ports_file_dir", "string");
def(["l", "log", "log_file"], "log_file", "string");
def(["log_size_limit", "log_max_num", "max_traced_msg_len"], "ignored", "ignore-value");
def(["T", "logtime"], "logtime", "bool");
def(["logtime_utc"], "logtime_utc", "bool");
def(["s", "syslog"], "syslog", "bool");
def(["r", "remote_syslog"], "remote_syslog", "unsupported");
def(["D", "debug"], "debug", "bool");
def(["V", "trace"], "trace", "bool");
def(["VV"], "trace_verbose", "bool");
def(["DV"], "debug_trace", "bool");
def(["DVV"], "debug_trace_verbose", "bool");
def(["js", "jetstream"], "jetstream", "bool");
def(["sd", "store_dir"], "store_dir", "string");
def(["user"], "user", "string");
def(["pass"], "pass", "string");
def(["auth"], "token", "string");
def(["max_payload"], "max_payload", "int");
def(["max_pending"], "max_pending", "int");
def(["max_connections"], "max_connections", "int");
// Any --tls* flag replaces the config file's `tls { }` block (see tlsBlockFromFlags); --tls=false drops it.
def(["tls"], "tls", "bool");
def(["tlsverify"], "tlsverify", "bool");
def(["tlscert"], "tlscert", "string");
def(["tlskey"], "tlskey", "string");
def(["tlscacert"], "tlscacert", "string");
// The cluster flags fill in a partial `cluster { }` block applied on top of the config file's (keys `cluster.*`).
def(["cluster", "cluster_listen"], "cluster.listen", "string");
def(["cluster_name"], "cluster.name", "string");
def(["routes"], "cluster.routes", "string");
def(["cluster_advertise"], "cluster.advertise", "string");
def(["no_advertise"], "cluster.no_advertise", "bool");
def(["connect_retries"], "cluster.connect_retries", "int");
def(["profile"], "ignored", "ignore-value");
def(["h", "help", "help_tls"], "help", "bool");
def(["v", "version"], "version", "bool");

const TLS_FLAGS = new Set(["tls", "tlsverify", "tlscert", "tlskey", "tlscacert"]);

export class FlagError extends Error {}

/**
 * --cluster / --cluster_listen `nats://[user:pass@]host:port` as `cluster { }` keys: the listen address, and
 * the route credentials (nats-server takes them from the URL, and clears the config file's when there are none).
 */
export function clusterListenFlag(value: string, flag: string): { listen: string; authorization: unknown } {
  const bad = (why: string) =>
    new FlagError(
      `invalid value "${value}" for flag -${flag}: ${why} (expected a URL such as nats://0.0.0.0:6222)`,
    );
  let text = value.trim();
  if (!text.includes("://")) text = `nats://${text}`;
  // A URL cannot carry port -1 ("pick a free port"): parse with 0 and put it back, as nats-server does.
  const random = text.endsWith(":-1");
  if (random) text = `${text.slice(0, -3)}:0`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad("not a URL");
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (u.port === "") throw bad("missing port");
  const port = random ? "-1" : u.port;
  const listen = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  if (u.username === "" && u.password === "") return { listen, authorization: false };
  if (u.password === "") throw new FlagError(`flag -${flag}: expected cluster password to be set`);
  return {
    listen,
    authorization: { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) },
  };
}

/** --routes: comma-separated URLs; an empty value clears the config file's routes. */
function routesFlag(value: string): string[] {
  return value
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
}

function parseBool(v: string, flag: string): boolean {
  const s = v.toLowerCase();
  if (["1", "t", "true"].includes(s)) return true;
  if (["0", "f", "false"].includes(s)) return false;
  throw new FlagError(`invalid boolean value "${v}" for flag -${flag}`);
}

export function parseServerFlags(argv: string[]): ServerFlags {
  const flags: ServerFlags = {
    testConfig: false,
    help: false,
    version: false,
    overrides: {},
    unsupported: [],
  };
  const o = flags.overrides;
  const tlsFlags: Record<string, string | boolean> = {};
  const cluster: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") throw new FlagError(`unexpected argument "${arg}"`);
    let name = arg.replace(/^--?/, "");
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = FLAGS[name];
    if (spec === undefined) throw new FlagError(`flag provided but not defined: -${name}`);
    const takesValue = spec.kind !== "bool";
    if (takesValue && value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[++i];
    }
    switch (spec.kind) {
      case "string":
        if (spec.key === "config") flags.configFile = value;
        else if (spec.key === "signal") flags.signal = value;
        else if (spec.key === "cluster.listen") Object.assign(cluster, clusterListenFlag(value ?? "", name));
        else if (spec.key === "cluster.routes") cluster.routes = routesFlag(value ?? "");
        else if (spec.key.startsWith("cluster.")) cluster[spec.key.slice(8)] = value;
        else if (TLS_FLAGS.has(spec.key)) tlsFlags[spec.key] = value ?? "";
        else o[spec.key] = value;
        break;
      case "int": {
        const n = Number(value);
        if (!Number.isInteger(n))
          throw new FlagError(`invalid value "${value}" for flag -${name}: parse error`);
        if (spec.key.startsWith("cluster.")) cluster[spec.key.slice(8)] = n;
        else o[spec.key] = n;
        break;
      }
      case "bool": {
        const b = value === undefined ? true : parseBool(value, name);
        if (spec.key === "test") flags.testConfig = b;
        else if (spec.key === "help") flags.help = b;
        else if (spec.key === "version") flags.version = b;
        else if (TLS_FLAGS.has(spec.key)) tlsFlags[spec.key] = b;
        else if (spec.key.startsWith("cluster.")) cluster[spec.key.slice(8)] = b;
        else if (spec.key === "debug_trace") {
          o.debug = b;
          o.trace = b;
        } else if (spec.key === "debug_trace_verbose" || spec.key === "trace_verbose") {
          if (spec.key === "debug_trace_verbose") o.debug = b;
          o.trace = b;
        } else o[spec.key] = b;
        break;
      }
      case "ignore-value":
        break;
      case "unsupported":
        flags.unsupported.push(`-${name}`);
        break;
    }
  }
  let tls: ReturnType<typeof tlsBlockFromFlags>;
  try {
    tls = tlsBlockFromFlags(tlsFlags as TlsFlags);
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  if (tls !== undefined) o.tls = tls;
  if (Object.keys(cluster).length > 0) o.cluster = cluster;
  return flags;
}

export const USAGE = `Usage: lattice-server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222, -1 for a random port)
    -n, --name <server_name>         Server name (default: server ID)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl, --signal <signal>[=<pid>]   Send signal to lattice-server process (ldm, stop, quit, term, reopen, reload)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<dir>/nats-server_<pid>.ports)
        --max_payload <size>         Maximum message payload in bytes (default: 1MB)

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes
        --cluster_listen <url>       Same as --cluster
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --connect_retries <number>   For implicit routes, number of connect retries

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
`;
