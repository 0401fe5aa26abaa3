// lattice kv ls|add|edit|rm|status (and, from their own files, put|get|create|update|del|purge|revert and
// history|keys|watch|compact): key-value buckets.

import { StorageType } from "@nats-io/jetstream";
import type { KvOptions, KvStatus } from "@nats-io/kv";
import { type Command, Option } from "commander";
import { bucketExists, bucketStream, KV_BUCKET } from "../buckets.js";
import { action, confirm, examples } from "../command-kit.js";
import { applyMetadata, diffConfigs, setter } from "../config-flags.js";
import { withSession } from "../connect-options.js";
import { CliError } from "../errors.js";
import { humanBytes, humanDuration, humanTime, note, out, printJson, printListing } from "../output.js";
import { collect, pairsToRecord, parseDuration, parsePositive, parseSize } from "../parse.js";
import { openBucket, printKeys, printStatus, statusJson } from "./kv-common.js";
import { registerKvHistory } from "./kv-history.js";
import { registerKvValues } from "./kv-values.js";

/** The settings flags of `kv add` and `kv edit` (edit has no defaults, and cannot change the storage). */
interface BucketFlags {
  history?: number;
  ttl?: number;
  replicas?: number;
  maxValueSize?: number;
  maxBucketSize?: number;
  storage?: string;
  description?: string;
  compression?: boolean;
  republishSource?: string;
  republishDestination?: string;
  republishHeaders?: boolean;
  metadata?: string[];
  json?: boolean;
}

function addBucketOptions(cmd: Command, mode: "add" | "edit"): Command {
  const add = mode === "add";
  cmd
    .addOption(
      new Option("--history <n>", "values kept per key")
        .argParser(parsePositive)
        .default(add ? 1 : undefined),
    )
    .option("--ttl <duration>", "how long values live (0: forever)", parseDuration)
    .addOption(new Option("--replicas <n>", "replicas").argParser(parsePositive).default(add ? 1 : undefined))
    .option("--max-value-size <size>", "largest value (-1 unlimited)", parseSize)
    .option("--max-bucket-size <size>", "largest total size (-1 unlimited)", parseSize);
  if (add) {
    cmd.addOption(
      new Option("--storage <type>", "storage backend").choices(["file", "memory"]).default("file"),
    );
  }
  cmd.option("--description <text>", "description").option("--compression", "compress stored values (s2)");
  if (!add) cmd.option("--no-compression", "store values uncompressed");
  return cmd
    .option(
      "--republish-source <subject>",
      "republish changes to keys matching this subject ($KV.<bucket>.<key>)",
    )
    .option("--republish-destination <subject>", "... to this subject")
    .option("--republish-headers", "republish headers only")
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--json", "print the bucket status as JSON");
}

/** `kv edit`: the given flags onto the bucket's backing stream configuration. */
function applyBucketFlags(c: Record<string, unknown>, f: BucketFlags): Record<string, unknown> {
  const set = setter(c);
  set("max_msgs_per_subject", f.history);
  if (f.ttl !== undefined) {
    c.max_age = Math.round(f.ttl * 1e6);
    // The duplicate window may not be longer than the age limit (as the library sets it on create).
    const dupe = c.duplicate_window as number | undefined;
    if (f.ttl > 0 && (dupe === undefined || dupe > (c.max_age as number))) c.duplicate_window = c.max_age;
  }
  set("num_replicas", f.replicas);
  set("max_msg_size", f.maxValueSize);
  set("max_bytes", f.maxBucketSize);
  set("description", f.description);
  if (f.compression !== undefined) c.compression = f.compression ? "s2" : "none";
  if (f.republishDestination !== undefined) {
    c.republish = {
      src: f.republishSource ?? ">",
      dest: f.republishDestination,
      headers_only: f.republishHeaders === true,
    };
  }
  applyMetadata(c, f.metadata);
  return c;
}

export function registerKv(program: Command): void {
  const kv = program
    .command("kv")
    .description(
      "key-value buckets: ls, add, edit, put, get, create, update, del, purge, revert, history, keys, watch, compact, rm, status",
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

  const add = addBucketOptions(
    kv.command("add").description("create a bucket").argument("<bucket>", "bucket name"),
    "add",
  ).action(
    action(
      async (
        bucket: string,
        opts: BucketFlags & { history: number; replicas: number; storage: string },
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

  const edit = addBucketOptions(
    kv
      .command("edit")
      .alias("update-bucket")
      .description("change a bucket's settings (only the ones given change)")
      .argument("<bucket>", "bucket name"),
    "edit",
  ).action(
    action(async (bucket: string, opts: BucketFlags, cmd: Command) => {
      await withSession(cmd, async (s) => {
        const si = await bucketStream(s, KV_BUCKET, bucket);
        const before = structuredClone(si.config) as unknown as Record<string, unknown>;
        const next = applyBucketFlags(structuredClone(si.config) as unknown as Record<string, unknown>, opts);
        const changes = diffConfigs(before, next);
        if (changes.length > 0) await (await s.jsm()).streams.update(si.config.name, next);
        const st = await (await openBucket(s, bucket)).status();
        if (opts.json) {
          printJson(statusJson(st));
          return;
        }
        if (changes.length === 0) note(`Bucket ${bucket}: nothing to change`);
        else {
          out(`Bucket ${bucket} was updated:`);
          out(changes.join("\n"));
          out();
        }
        printStatus(st);
      });
    }),
  );
  examples(
    edit,
    "lattice kv edit CONFIG --history 10",
    "lattice kv edit SESSIONS --ttl 30m --description 'web sessions'",
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
