// lattice kv ls|add|rm|status (and, from their own files, put|get|create|update|del|purge|revert and
// history|keys|watch|compact): key-value buckets.

import { StorageType } from "@nats-io/jetstream";
import type { KvOptions, KvStatus } from "@nats-io/kv";
import { type Command, Option } from "commander";
import { bucketExists, KV_BUCKET } from "../buckets.js";
import { action, confirm, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError } from "../errors.js";
import { humanBytes, humanDuration, humanTime, out, printJson, printListing } from "../output.js";
import { collect, pairsToRecord, parseDuration, parsePositive, parseSize } from "../parse.js";
import { openBucket, printKeys, printStatus, statusJson } from "./kv-common.js";
import { registerKvHistory } from "./kv-history.js";
import { registerKvValues } from "./kv-values.js";

export function registerKv(program: Command): void {
  const kv = program
    .command("kv")
    .description(
      "key-value buckets: ls, add, put, get, create, update, del, purge, revert, history, keys, watch, compact, rm, status",
    );
  examples(
    kv,
    "lattice kv ls",
    "lattice kv add CONFIG --history 5",
    "lattice kv put CONFIG mode fast",
    "lattice kv get CONFIG mode",
  );

  const ls = kv
    .command("ls")
    .alias("list")
    .description("list buckets: name, values, size, history, TTL (or, given a bucket, its keys)")
    .argument("[bucket]", "list this bucket's keys instead")
    .option("-n, --names", "print only the names")
    .option("--json", "print the bucket status as JSON")
    .action(
      action(async (bucket: string | undefined, opts: { names?: boolean; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          if (bucket !== undefined) {
            await printKeys(s, bucket, [], opts.json === true);
            return;
          }
          const kvm = await s.kvm();
          const all: KvStatus[] = [];
          for await (const st of kvm.list()) all.push(st);
          all.sort((a, b) => a.bucket.localeCompare(b.bucket));
          printListing(all, opts, {
            name: (b) => b.bucket,
            json: statusJson,
            empty: "No Key-Value buckets found",
            head: ["Bucket", "Description", "Values", "Size", "History", "TTL", "Last Update"],
            row: (b) => [
              b.bucket,
              b.description,
              b.values,
              humanBytes(b.size),
              b.history,
              b.ttl > 0 ? humanDuration(b.ttl) : "forever",
              b.streamInfo.state.last_seq > 0 ? humanTime(b.streamInfo.state.last_ts) : "never",
            ],
            title: `Key-Value Buckets (${all.length})`,
          });
        });
      }),
    );
  examples(ls, "lattice kv ls", "lattice kv ls --names");

  const add = kv
    .command("add")
    .description("create a bucket")
    .argument("<bucket>", "bucket name")
    .option("--history <n>", "values kept per key", parsePositive, 1)
    .option("--ttl <duration>", "how long values live (0: forever)", parseDuration)
    .option("--replicas <n>", "replicas", parsePositive, 1)
    .option("--max-value-size <size>", "largest value (-1 unlimited)", parseSize)
    .option("--max-bucket-size <size>", "largest total size (-1 unlimited)", parseSize)
    .addOption(new Option("--storage <type>", "storage backend").choices(["file", "memory"]).default("file"))
    .option("--description <text>", "description")
    .option("--compression", "compress stored values (s2)")
    .option(
      "--republish-source <subject>",
      "republish changes to keys matching this subject ($KV.<bucket>.<key>)",
    )
    .option("--republish-destination <subject>", "... to this subject")
    .option("--republish-headers", "republish headers only")
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--json", "print the bucket status as JSON")
    .action(
      action(
        async (
          bucket: string,
          opts: {
            history: number;
            ttl?: number;
            replicas: number;
            maxValueSize?: number;
            maxBucketSize?: number;
            storage: string;
            description?: string;
            compression?: boolean;
            republishSource?: string;
            republishDestination?: string;
            republishHeaders?: boolean;
            metadata?: string[];
            json?: boolean;
          },
          cmd: Command,
        ) => {
          const o: Partial<KvOptions> = {
            history: opts.history,
            replicas: opts.replicas,
            storage: opts.storage === "memory" ? StorageType.Memory : StorageType.File,
          };
          if (opts.ttl !== undefined) o.ttl = opts.ttl;
          if (opts.maxValueSize !== undefined) o.maxValueSize = opts.maxValueSize;
          if (opts.maxBucketSize !== undefined) o.max_bytes = opts.maxBucketSize;
          if (opts.description !== undefined) o.description = opts.description;
          if (opts.compression) o.compression = true;
          const md = pairsToRecord(opts.metadata);
          if (md !== undefined) o.metadata = md;
          if (opts.republishDestination !== undefined) {
            o.republish = {
              src: opts.republishSource ?? ">",
              dest: opts.republishDestination,
              headers_only: opts.republishHeaders === true,
            };
          }
          await withSession(cmd, async (s) => {
            const kvm = await s.kvm();
            if (await bucketExists(s, KV_BUCKET, bucket))
              throw new CliError(`bucket "${bucket}" already exists (see lattice kv status ${bucket})`);
            const b = await kvm.create(bucket, o);
            const st = await b.status();
            if (opts.json) printJson(statusJson(st));
            else printStatus(st);
          });
        },
      ),
    );
  examples(
    add,
    "lattice kv add CONFIG",
    "lattice kv add SESSIONS --ttl 1h --history 1 --storage memory",
    "lattice kv add CONFIG --history 10 --max-value-size 1MiB",
  );

  registerKvValues(kv);
  registerKvHistory(kv);

  const rm = kv
    .command("rm")
    .description("delete a bucket and everything in it")
    .argument("<bucket>", "bucket name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (bucket: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete bucket ${bucket}?`, opts.force);
        await withSession(cmd, async (s) => {
          const b = await openBucket(s, bucket);
          await b.destroy();
          out(`Deleted bucket ${bucket}`);
        });
      }),
    );
  examples(rm, "lattice kv rm CONFIG -f");

  const status = kv
    .command("status")
    .alias("info")
    .description("show a bucket's configuration and state")
    .argument("<bucket>", "bucket name")
    .option("--json", "print the status as JSON")
    .action(
      action(async (bucket: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const b = await openBucket(s, bucket);
          const st = await b.status();
          if (opts.json) printJson(statusJson(st));
          else printStatus(st);
        });
      }),
    );
  examples(status, "lattice kv status CONFIG", "lattice kv status CONFIG --json");
}
