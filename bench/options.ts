// Command-line options for `npm run bench` / `node dist/bench/run.js`.

export type ServerKey = "lattice" | "nats";
export const SCENARIO_IDS = ["pub", "pubsub", "fanout", "queue", "reqreply"] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];
/** JetStream scenarios (js-scenarios.ts, js-restart.ts), run after the core ones on -js servers. */
export const JS_SCENARIO_IDS = ["js-sync", "js-async", "js-direct", "js-restart"] as const;
export type JsScenarioId = (typeof JS_SCENARIO_IDS)[number];
/** Consumer and KV scenarios through the official clients (consumer-bench.ts); `consumers` selects them all. */
export const CONSUMER_SCENARIO_IDS = [
  "fetch+ack",
  "push",
  "kv-put",
  "kv-get",
  "kv-watch",
  "many-consumers",
] as const;
export type ConsumerScenarioId = (typeof CONSUMER_SCENARIO_IDS)[number];
/** Multi-server scenarios (cluster-bench.ts): routes, gateways, interest propagation; `cluster` selects them all. */
export const CLUSTER_SCENARIO_IDS = [
  "route-pubsub",
  "route-fanout",
  "route-queue",
  "route-reqreply",
  "gateway-reqreply",
  "interest-propagation",
] as const;
export type ClusterScenarioId = (typeof CLUSTER_SCENARIO_IDS)[number];

export interface ClusterOptions {
  /** Measured messages per route throughput scenario. */
  counts: Record<"route-pubsub" | "route-fanout" | "route-queue", number>;
  /** Measured requests for route and gateway request-reply. */
  rrCount: number;
  /** Distinct subjects subscribed for interest propagation. */
  subjects: number;
  /** Publisher connections on server A sharing the throughput load. */
  pubs: number;
}

/** A few seconds each with the three servers of a topology sharing one core. */
export const DEFAULT_CLUSTER: ClusterOptions = {
  counts: { "route-pubsub": 3_000_000, "route-fanout": 1_500_000, "route-queue": 3_000_000 },
  rrCount: 10_000,
  subjects: 100_000,
  pubs: 1,
};

export interface JsOptions {
  /** Messages for async publish, and pipelined direct gets (whose stream holds min(this, 100k) messages). */
  count: number;
  /** Messages for sync publish (1 in flight), and sequential direct gets. */
  syncCount: number;
  /** Messages stored before the restart. */
  restartCount: number;
  /** Async publishes in flight. */
  inflight: number;
  /** Pipelined direct gets in flight. */
  directInflight: number;
  /** Parent directory of the store dirs (default: the OS temp dir). */
  dir: string | null;
}

export const DEFAULT_JS: JsOptions = {
  count: 200_000,
  syncCount: 5_000,
  restartCount: 1_000_000,
  inflight: 4096,
  directInflight: 256,
  dir: null,
};

/** Default measured messages per scenario: a few seconds each against a single-core nats-server. */
export const DEFAULT_COUNTS: Record<ScenarioId, number> = {
  pub: 20_000_000,
  pubsub: 8_000_000,
  fanout: 3_000_000,
  queue: 8_000_000,
  reqreply: 20_000,
};

export interface Options {
  only: ServerKey | null;
  counts: Record<ScenarioId, number>;
  warmup: number | null;
  durationS: number | null;
  window: number;
  inflight: number;
  lagWindows: number;
  repeat: number;
  scenarios: ScenarioId[];
  jsScenarios: JsScenarioId[];
  consumerScenarios: ConsumerScenarioId[];
  clusterScenarios: ClusterScenarioId[];
  cluster: ClusterOptions;
  /** Messages per consumer run / KV operations (0 = the consumer bench's defaults or its env overrides). */
  consumerMsgs: number;
  kvOps: number;
  js: JsOptions;
  urls: Record<ServerKey, string | null>;
  pin: boolean;
  ceiling: boolean;
  json: string | null;
  maxSeconds: number;
  stallMs: number;
  strict: boolean;
}

export const USAGE = `Usage: node dist/bench/run.js [options]   (or: npm run bench -- [options])

Starts Lattice (dist/src/cli/lattice-server.js) and nats-server (if on PATH) on free
loopback ports, runs every scenario against both, prints Lattice vs nats-server.

  --only lattice|nats     benchmark just one server
  --count N               measured messages for every throughput scenario
                          (defaults: pub ${DEFAULT_COUNTS.pub}, pubsub ${DEFAULT_COUNTS.pubsub}, fanout ${DEFAULT_COUNTS.fanout}, queue ${DEFAULT_COUNTS.queue})
  --rr-count N            measured requests for request-reply (default ${DEFAULT_COUNTS.reqreply})
  --duration S            instead of fixed counts, size each throughput run to ~S seconds
                          from its warm-up rate
  --warmup N              warm-up messages (default: 10% of the count, at most 1,000,000)
  --scenarios a,b,...     subset of: ${SCENARIO_IDS.join(",")},
                          ${JS_SCENARIO_IDS.join(",")},
                          consumers (= all of ${CONSUMER_SCENARIO_IDS.join(",")}) or any of those
                          (e.g. --scenarios consumers, or --scenarios push,kv-watch),
                          cluster (= all of ${CLUSTER_SCENARIO_IDS.join(",")}) or any of those
  --repeat N              runs per scenario and server, median reported (default 1)
  --window N              messages per flow-control window, each followed by PING (default 10000)
  --inflight N            windows awaiting PONG before the publisher waits (default 8)
  --lag N                 windows the slowest subscriber may trail the publisher (default 16)
  --max-seconds S         cap on one measured run; a capped run is flagged (default 15)
JetStream (each server started again with -js -sd <temp dir>, file storage):
  --js-count N            async publishes (${DEFAULT_JS.inflight} in flight) and pipelined direct gets
                          (default ${DEFAULT_JS.count}; the direct-get stream holds min(N, 100000) messages)
  --js-sync-count N       sync publishes (1 in flight) and sequential direct gets (default ${DEFAULT_JS.syncCount})
  --js-restart-count N    messages stored before the restart measurement (default ${DEFAULT_JS.restartCount})
  --js-inflight N         async publishes in flight (default ${DEFAULT_JS.inflight})
  --js-direct-inflight N  pipelined direct gets in flight (default ${DEFAULT_JS.directInflight})
  --consumer-msgs N       messages in the stream each consumer scenario drains (default 200000)
  --kv-ops N              KV puts / gets / watched updates (default 100000)
  --js-dir DIR            parent directory for the store dirs (default: OS temp dir; its file
                          system decides what an fsync costs)
Cluster (separate server processes: a 3-server route mesh; east ↔ west gateways):
  --cluster-count N       measured messages for route-pubsub, route-fanout and route-queue (defaults:
                          ${Object.values(DEFAULT_CLUSTER.counts).join(", ")})
  --cluster-rr-count N    measured requests for route-reqreply and gateway-reqreply (default ${DEFAULT_CLUSTER.rrCount})
  --cluster-subjects N    subjects subscribed for interest-propagation (default ${DEFAULT_CLUSTER.subjects})
  --cluster-pubs N        publisher connections on server A sharing the load (default ${DEFAULT_CLUSTER.pubs})
  --lattice-url URL       use an already-running Lattice (env BENCH_LATTICE_URL)
  --nats-url URL          use an already-running nats-server (env BENCH_NATS_URL)
  --no-pin                do not pin server and generator to separate cores
  --no-ceiling            skip the generator-ceiling measurements
  --json FILE             also write all results as JSON to FILE
  --strict                exit with status 1 if any target is MISS
  -h, --help              this text
`;

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    only: null,
    counts: { ...DEFAULT_COUNTS },
    warmup: null,
    durationS: null,
    window: 10_000,
    inflight: 8,
    lagWindows: 16,
    repeat: 1,
    scenarios: [...SCENARIO_IDS],
    jsScenarios: [...JS_SCENARIO_IDS],
    consumerScenarios: [...CONSUMER_SCENARIO_IDS],
    clusterScenarios: [...CLUSTER_SCENARIO_IDS],
    cluster: { ...DEFAULT_CLUSTER, counts: { ...DEFAULT_CLUSTER.counts } },
    consumerMsgs: 0,
    kvOps: 0,
    js: { ...DEFAULT_JS },
    urls: {
      lattice: process.env.BENCH_LATTICE_URL || null,
      nats: process.env.BENCH_NATS_URL || null,
    },
    pin: true,
    ceiling: true,
    json: null,
    maxSeconds: 15,
    stallMs: 10_000,
    strict: false,
  };
  const args = [...argv];
  while (args.length > 0) {
    let arg = args.shift() as string;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = (): string | undefined => value ?? args.shift();
    switch (arg) {
      case "-h":
      case "--help":
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      case "--only": {
        const v = next();
        if (v !== "lattice" && v !== "nats") throw new Error("--only takes lattice or nats");
        o.only = v;
        break;
      }
      case "--count": {
        const n = Math.round(positive(arg, next()));
        for (const id of SCENARIO_IDS) if (id !== "reqreply") o.counts[id] = n;
        break;
      }
      case "--rr-count":
        o.counts.reqreply = Math.round(positive(arg, next()));
        break;
      case "--duration":
        o.durationS = positive(arg, next());
        break;
      case "--warmup":
        o.warmup = Math.round(positive(arg, next()));
        break;
      case "--scenarios": {
        const list = (next() ?? "").split(",").filter(Boolean);
        for (const s of list) {
          if (
            s !== "consumers" &&
            s !== "cluster" &&
            !(CLUSTER_SCENARIO_IDS as readonly string[]).includes(s) &&
            !(SCENARIO_IDS as readonly string[]).includes(s) &&
            !(JS_SCENARIO_IDS as readonly string[]).includes(s) &&
            !(CONSUMER_SCENARIO_IDS as readonly string[]).includes(s)
          )
            throw new Error(`unknown scenario "${s}"`);
        }
        o.scenarios = SCENARIO_IDS.filter((id) => list.includes(id));
        o.jsScenarios = JS_SCENARIO_IDS.filter((id) => list.includes(id));
        o.consumerScenarios = CONSUMER_SCENARIO_IDS.filter(
          (id) => list.includes("consumers") || list.includes(id),
        );
        o.clusterScenarios = CLUSTER_SCENARIO_IDS.filter(
          (id) => list.includes("cluster") || list.includes(id),
        );
        break;
      }
      case "--cluster-count": {
        const n = Math.round(positive(arg, next()));
        for (const k of Object.keys(o.cluster.counts) as (keyof ClusterOptions["counts"])[])
          o.cluster.counts[k] = n;
        break;
      }
      case "--cluster-rr-count":
        o.cluster.rrCount = Math.round(positive(arg, next()));
        break;
      case "--cluster-subjects":
        o.cluster.subjects = Math.round(positive(arg, next()));
        break;
      case "--cluster-pubs":
        o.cluster.pubs = Math.round(positive(arg, next()));
        break;
      case "--consumer-msgs":
        o.consumerMsgs = Math.round(positive(arg, next()));
        break;
      case "--kv-ops":
        o.kvOps = Math.round(positive(arg, next()));
        break;
      case "--js-count":
        o.js.count = Math.round(positive(arg, next()));
        break;
      case "--js-sync-count":
        o.js.syncCount = Math.round(positive(arg, next()));
        break;
      case "--js-restart-count":
        o.js.restartCount = Math.round(positive(arg, next()));
        break;
      case "--js-inflight":
        o.js.inflight = Math.round(positive(arg, next()));
        break;
      case "--js-direct-inflight":
        o.js.directInflight = Math.round(positive(arg, next()));
        break;
      case "--js-dir":
        o.js.dir = next() ?? null;
        if (!o.js.dir) throw new Error("--js-dir needs a directory");
        break;
      case "--repeat":
        o.repeat = Math.round(positive(arg, next()));
        break;
      case "--window":
        o.window = Math.round(positive(arg, next()));
        break;
      case "--inflight":
        o.inflight = Math.round(positive(arg, next()));
        break;
      case "--lag":
        o.lagWindows = Math.round(positive(arg, next()));
        break;
      case "--max-seconds":
        o.maxSeconds = positive(arg, next());
        break;
      case "--lattice-url":
        o.urls.lattice = next() ?? null;
        break;
      case "--nats-url":
        o.urls.nats = next() ?? null;
        break;
      case "--no-pin":
        o.pin = false;
        break;
      case "--no-ceiling":
        o.ceiling = false;
        break;
      case "--json":
        o.json = next() ?? null;
        if (!o.json) throw new Error("--json needs a file name");
        break;
      case "--strict":
        o.strict = true;
        break;
      default:
        throw new Error(`unknown option "${arg}" (see --help)`);
    }
  }
  return o;
}

/** Accepts nats://host:port, host:port or a bare port. */
export function parseUrl(url: string): { host: string; port: number } {
  const m = /^(?:nats:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)?(?::(\d+))?\/?$/.exec(url.trim());
  if (!m) throw new Error(`cannot parse server URL "${url}"`);
  if (m[1] && /^\d+$/.test(m[1]) && !m[2]) return { host: "127.0.0.1", port: Number(m[1]) };
  return { host: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), port: Number(m[2] ?? 4222) };
}
