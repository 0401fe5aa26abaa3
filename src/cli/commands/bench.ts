// lattice bench pub|sub|pubsub|req|js pub|js fetch|kv put|kv get: load generators with a live progress bar
// and a summary of throughput and latency percentiles (HDR histograms).

import { type Command, Option } from "commander";
import { action, examples } from "../command-kit.js";
import { parseNonNegative, parsePositive } from "../parse.js";
import { benchPub, benchPubSub, benchReq, benchSub } from "./bench-core.js";
import { benchJsFetch, benchJsPub, benchKv, type JsBenchOptions, type KvBenchOptions } from "./bench-js.js";
import { type BenchOptions, benchOptions } from "./bench-measure.js";

// ---------------------------------------------------------------- commands

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("benchmarks: pub, sub, pubsub, req, js pub, js fetch, kv put, kv get");
  examples(
    bench,
    "lattice bench pubsub bench.subject --msgs 1000000 --size 128 --clients 2 --subs 2",
    "lattice bench js pub bench.js --msgs 100000 --storage memory",
    "lattice bench kv get --msgs 10000",
  );

  const pub = benchOptions(
    bench.command("pub").description("publish as fast as possible").argument("<subject>", "subject"),
    {
      clients: "concurrent publishers",
    },
  ).action(action(async (subject: string, o: BenchOptions, cmd: Command) => benchPub(subject, o, cmd)));
  examples(pub, "lattice bench pub bench.test --msgs 1000000 --size 256 --clients 4");

  const sub = benchOptions(
    bench
      .command("sub")
      .description("receive messages from publishers elsewhere (e.g. lattice bench pub)")
      .argument("<subject>", "subject"),
    { clients: "concurrent subscribers (each receives every message)" },
  ).action(action(async (subject: string, o: BenchOptions, cmd: Command) => benchSub(subject, o, cmd)));
  examples(
    sub,
    "lattice bench sub bench.test --msgs 1000000 --clients 2   # then: lattice bench pub bench.test --msgs 1000000",
  );

  const pubsub = benchOptions(
    bench
      .command("pubsub")
      .description("publishers and subscribers in one run; end-to-end latency")
      .argument("<subject>", "subject"),
    { clients: "concurrent publishers" },
  )
    .option("--subs <n>", "subscribers (each receives every message)", parsePositive, 1)
    .action(
      action(async (subject: string, o: BenchOptions & { subs: number }, cmd: Command) =>
        benchPubSub(subject, o, cmd),
      ),
    );
  examples(pubsub, "lattice bench pubsub bench.test --msgs 100000 --clients 2 --subs 2");

  const req = benchOptions(
    bench
      .command("req")
      .alias("request")
      .description("request/reply round trips")
      .argument("<subject>", "subject"),
    { msgs: 10_000, clients: "concurrent requesters (each waits for its reply)" },
  )
    .option(
      "--responders <n>",
      "built-in responders to start (0: use responders running elsewhere)",
      parseNonNegative,
      1,
    )
    .action(
      action(async (subject: string, o: BenchOptions & { responders: number }, cmd: Command) =>
        benchReq(subject, o, cmd),
      ),
    );
  examples(
    req,
    "lattice bench req bench.service --msgs 10000 --clients 4",
    "lattice bench req service.echo --responders 0   # with: lattice reply service.echo --echo",
  );

  const js = bench.command("js").description("JetStream benchmarks: pub, fetch");
  examples(
    js,
    "lattice bench js pub bench.js --msgs 100000",
    "lattice bench js fetch bench.js --msgs 100000 --batch 500",
  );
  const jsOptions = (c: Command) =>
    c
      .option("--stream <name>", "stream to use (created for the subject when missing)", "benchstream")
      .addOption(
        new Option("--storage <type>", "storage for a created stream")
          .choices(["file", "memory"])
          .default("file"),
      )
      .option("--cleanup", "delete the stream afterwards");
  const jsPub = jsOptions(
    benchOptions(
      js
        .command("pub")
        .description("publish to a stream, waiting for acknowledgements")
        .argument("<subject>", "subject"),
      {
        msgs: 10_000,
        clients: "concurrent publishers",
      },
    ),
  )
    .option("--batch <n>", "publishes in flight per client", parsePositive, 100)
    .option("--purge", "purge the stream first")
    .action(action(async (subject: string, o: JsBenchOptions, cmd: Command) => benchJsPub(subject, o, cmd)));
  examples(jsPub, "lattice bench js pub bench.js --msgs 100000 --storage memory --batch 500 --cleanup");

  const jsFetch = jsOptions(
    benchOptions(
      js
        .command("fetch")
        .description("fetch from a durable pull consumer (fills the stream first if needed)")
        .argument("<subject>", "subject"),
      {
        msgs: 10_000,
        clients: "concurrent fetchers sharing the consumer",
      },
    ),
  )
    .option("--batch <n>", "messages per fetch", parsePositive, 100)
    .option("--consumer <name>", "durable consumer to create (deleted afterwards)", "benchconsumer")
    .action(
      action(async (subject: string, o: JsBenchOptions & { consumer: string }, cmd: Command) =>
        benchJsFetch(subject, o, cmd),
      ),
    );
  examples(jsFetch, "lattice bench js fetch bench.js --msgs 100000 --batch 1000");

  const kv = bench.command("kv").description("key-value benchmarks: put, get");
  examples(kv, "lattice bench kv put --msgs 10000", "lattice bench kv get --msgs 10000 --keys 100");
  const kvOptions = (c: Command) =>
    c
      .option("--bucket <name>", "bucket to use (created when missing)", "benchbucket")
      .option("--keys <n>", "distinct keys", parsePositive, 100)
      .addOption(
        new Option("--storage <type>", "storage for a created bucket")
          .choices(["file", "memory"])
          .default("file"),
      )
      .option("--cleanup", "delete the bucket afterwards");
  const kvPut = kvOptions(
    benchOptions(kv.command("put").description("write values"), {
      msgs: 10_000,
      clients: "concurrent writers",
    }),
  ).action(action(async (o: KvBenchOptions, cmd: Command) => benchKv("put", o, cmd)));
  examples(kvPut, "lattice bench kv put --msgs 10000 --size 1KiB --clients 2");
  const kvGet = kvOptions(
    benchOptions(kv.command("get").description("read values (writes the keys first if needed)"), {
      msgs: 10_000,
      clients: "concurrent readers",
    }),
  ).action(action(async (o: KvBenchOptions, cmd: Command) => benchKv("get", o, cmd)));
  examples(kvGet, "lattice bench kv get --msgs 10000 --keys 100 --clients 4");
}
