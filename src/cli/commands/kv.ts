// lattice kv ls|add|put|get|create|update|del|purge|history|keys|watch|rm|status: key-value buckets.

import type { StreamInfo } from "@nats-io/jetstream";
import { JetStreamApiError, StorageType } from "@nats-io/jetstream";
import type { KV, KvEntry, KvOptions, KvStatus } from "@nats-io/kv";
import { type Command, Option } from "commander";
import { action, bodyFrom, confirm, examples, interrupted } from "../command-kit.js";
import { type Session, withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import {
  color,
  displayBody,
  ellipsis,
  humanBytes,
  humanCount,
  humanDuration,
  humanTime,
  note,
  out,
  printJson,
  printSections,
  printTable,
  type Section,
} from "../output.js";
import { collect, pairsToRecord, parseDuration, parseInteger, parsePositive, parseSize } from "../parse.js";

const KV_PREFIX = "KV_";

/** Open a bucket after checking it exists, so a typo is "bucket not found", not a timeout or no-responders. */
export async function openBucket(s: Session, bucket: string): Promise<KV> {
  const jsm = await s.jsm();
  let si: StreamInfo;
  try {
    si = await jsm.streams.info(`${KV_PREFIX}${bucket}`);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) {
      throw new CliError(`no such bucket "${bucket}" (JetStream error 10059, status 404)`);
    }
    throw err;
  }
  const kvm = await s.kvm();
  return kvm.open(bucket, { allow_direct: si.config.allow_direct === true });
}

function entryJson(e: KvEntry): Record<string, unknown> {
  return {
    bucket: e.bucket,
    key: e.key,
    revision: e.revision,
    operation: e.operation,
    created: e.created.toISOString(),
    length: e.length,
    value: Buffer.from(e.value).toString("utf8"),
    delta: e.delta,
  };
}

function statusJson(st: KvStatus): Record<string, unknown> {
  return {
    bucket: st.bucket,
    description: st.description,
    values: st.values,
    size: st.size,
    history: st.history,
    ttl_ms: st.ttl,
    max_bytes: st.max_bytes,
    max_value_size: st.maxValueSize,
    storage: st.storage,
    replicas: st.replicas,
    compression: st.compression,
    metadata: st.metadata,
    stream_info: st.streamInfo,
  };
}

export function kvStatusSections(st: KvStatus): Section[] {
  const si = st.streamInfo;
  return [
    {
      title: "Configuration",
      rows: [
        ["Bucket Name", st.bucket],
        st.description ? ["Description", st.description] : undefined,
        ["History Kept", humanCount(st.history)],
        ["Values Stored", humanCount(st.values)],
        ["Size", humanBytes(st.size)],
        ["TTL", st.ttl > 0 ? humanDuration(st.ttl) : "forever"],
        ["Maximum Bucket Size", humanBytes(st.max_bytes)],
        ["Maximum Value Size", humanBytes(st.maxValueSize)],
        ["Storage", st.storage === StorageType.Memory ? "Memory" : "File"],
        ["Replicas", st.replicas],
        ["Compressed", String(st.compression === true)],
        ["Backing Stream", si.config.name],
        si.config.allow_direct ? ["Direct Get", "true"] : undefined,
        si.config.republish
          ? ["Republishing", `${si.config.republish.src} -> ${si.config.republish.dest}`]
          : undefined,
        si.config.sealed ? ["Sealed", "true"] : undefined,
        ...Object.entries(st.metadata ?? {})
          .filter(([k]) => !k.startsWith("_nats."))
          .map(([k, v]): [string, string] => [`Metadata ${k}`, v]),
      ],
    },
    {
      title: "State",
      rows: [
        ["First Sequence", humanCount(si.state.first_seq)],
        ["Last Sequence", humanCount(si.state.last_seq)],
        ["Last Update", si.state.last_seq > 0 ? humanTime(si.state.last_ts) : "never"],
      ],
    },
  ];
}

function printStatus(st: KvStatus): void {
  out(
    color.bold(
      `Information for Key-Value Store Bucket ${st.bucket} created ${humanTime(st.streamInfo.created)}`,
    ),
  );
  out();
  printSections(kvStatusSections(st));
}

function printEntry(e: KvEntry, opts: { raw?: boolean; json?: boolean }): void {
  if (opts.json) {
    printJson(entryJson(e));
    return;
  }
  if (opts.raw) {
    process.stdout.write(e.value);
    out();
    return;
  }
  out(color.bold(`${e.bucket} > ${e.key} revision: ${e.revision} created @ ${humanTime(e.created)}`));
  out();
  out(displayBody(e.value));
}

async function printKeys(s: Session, bucket: string, filters: string[], json: boolean): Promise<void> {
  const b = await openBucket(s, bucket);
  const found: string[] = [];
  const iter = await b.keys(filters.length > 0 ? filters : undefined);
  for await (const k of iter) found.push(k);
  found.sort();
  if (json) {
    printJson(found);
    return;
  }
  if (found.length === 0) {
    note(`No keys found in bucket ${bucket}`);
    return;
  }
  for (const k of found) out(k);
}

export function registerKv(program: Command): void {
  const kv = program
    .command("kv")
    .description(
      "key-value buckets: ls, add, put, get, create, update, del, purge, history, keys, watch, rm, status",
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
          if (opts.json) {
            printJson(opts.names ? all.map((b) => b.bucket) : all.map(statusJson));
            return;
          }
          if (opts.names) {
            for (const b of all) out(b.bucket);
            return;
          }
          if (all.length === 0) {
            out("No Key-Value buckets found");
            return;
          }
          printTable(
            ["Bucket", "Description", "Values", "Size", "History", "TTL", "Last Update"],
            all.map((b) => [
              b.bucket,
              b.description,
              b.values,
              humanBytes(b.size),
              b.history,
              b.ttl > 0 ? humanDuration(b.ttl) : "forever",
              b.streamInfo.state.last_seq > 0 ? humanTime(b.streamInfo.state.last_ts) : "never",
            ]),
            `Key-Value Buckets (${all.length})`,
          );
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
            const jsm = await s.jsm();
            const exists = await jsm.streams.info(`${KV_PREFIX}${bucket}`).then(
              () => true,
              () => false,
            );
            if (exists)
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

  const put = kv
    .command("put")
    .description('store a value (reads stdin when the value is "-" or with --force-stdin)')
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .argument("[value]", "value")
    .option("--force-stdin", "read the value from stdin")
    .option("--json", "print the new revision as JSON")
    .action(
      action(
        async (
          bucket: string,
          key: string,
          value: string | undefined,
          opts: { forceStdin?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          if (value === undefined && !opts.forceStdin) {
            throw new CliError('give a value, or "-" / --force-stdin to read it from stdin', Exit.USAGE);
          }
          const data = await bodyFrom(value, opts.forceStdin);
          await withSession(cmd, async (s) => {
            const b = await openBucket(s, bucket);
            const rev = await b.put(key, data);
            if (opts.json) printJson({ bucket, key, revision: rev });
            else out(`Stored ${bucket} > ${key} at revision ${rev}`);
          });
        },
      ),
    );
  examples(
    put,
    "lattice kv put CONFIG mode fast",
    "lattice kv put CONFIG settings --force-stdin < settings.json",
  );

  const get = kv
    .command("get")
    .description("get a key's current value, or one revision of it")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .option("--revision <n>", "this revision instead of the latest", parsePositive)
    .option("--raw", "print only the value")
    .option("--json", "print the entry as JSON")
    .action(
      action(
        async (
          bucket: string,
          key: string,
          opts: { revision?: number; raw?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const b = await openBucket(s, bucket);
            const e = await b.get(key, opts.revision !== undefined ? { revision: opts.revision } : undefined);
            if (e === null) {
              throw new CliError(
                opts.revision !== undefined
                  ? `no revision ${opts.revision} of key "${key}" in bucket ${bucket}`
                  : `key "${key}" not found in bucket ${bucket}`,
              );
            }
            if (e.operation !== "PUT") {
              throw new CliError(
                `key "${key}" in bucket ${bucket} was ${e.operation === "DEL" ? "deleted" : "purged"} at revision ${e.revision}`,
              );
            }
            printEntry(e, opts);
          });
        },
      ),
    );
  examples(
    get,
    "lattice kv get CONFIG mode",
    "lattice kv get CONFIG mode --raw",
    "lattice kv get CONFIG mode --revision 3 --json",
  );

  const create = kv
    .command("create")
    .description("store a value only if the key does not exist yet")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .argument("[value]", "value")
    .option("--force-stdin", "read the value from stdin")
    .option("--json", "print the new revision as JSON")
    .action(
      action(
        async (
          bucket: string,
          key: string,
          value: string | undefined,
          opts: { forceStdin?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          const data = await bodyFrom(value, opts.forceStdin);
          await withSession(cmd, async (s) => {
            const b = await openBucket(s, bucket);
            const rev = await b.create(key, data);
            if (opts.json) printJson({ bucket, key, revision: rev });
            else out(`Created ${bucket} > ${key} at revision ${rev}`);
          });
        },
      ),
    );
  examples(create, "lattice kv create CONFIG lock me");

  const update = kv
    .command("update")
    .description("store a value only if the key is still at the given revision (compare and set)")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .argument("<value>", 'value ("-" reads stdin)')
    .argument("<revision>", "the revision the key must be at", parseInteger)
    .option("--json", "print the new revision as JSON")
    .action(
      action(
        async (
          bucket: string,
          key: string,
          value: string,
          revision: number,
          opts: { json?: boolean },
          cmd: Command,
        ) => {
          const data = await bodyFrom(value, false);
          await withSession(cmd, async (s) => {
            const b = await openBucket(s, bucket);
            const rev = await b.update(key, data, revision);
            if (opts.json) printJson({ bucket, key, revision: rev });
            else out(`Updated ${bucket} > ${key} from revision ${revision} to ${rev}`);
          });
        },
      ),
    );
  examples(update, "lattice kv update CONFIG mode slow 4");

  const del = kv
    .command("del")
    .alias("delete")
    .description("delete a key (history is kept; see purge)")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (bucket: string, key: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete ${bucket} > ${key}?`, opts.force);
        await withSession(cmd, async (s) => {
          const b = await openBucket(s, bucket);
          await b.delete(key);
          out(`Deleted ${bucket} > ${key}`);
        });
      }),
    );
  examples(del, "lattice kv del CONFIG mode -f");

  const purge = kv
    .command("purge")
    .description("delete a key and all its history")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (bucket: string, key: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really purge ${bucket} > ${key} and its history?`, opts.force);
        await withSession(cmd, async (s) => {
          const b = await openBucket(s, bucket);
          await b.purge(key);
          out(`Purged ${bucket} > ${key}`);
        });
      }),
    );
  examples(purge, "lattice kv purge CONFIG mode -f");

  const history = kv
    .command("history")
    .description("every stored revision of a key")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .option("--json", "print the revisions as JSON")
    .action(
      action(async (bucket: string, key: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const b = await openBucket(s, bucket);
          const entries: KvEntry[] = [];
          const iter = await b.history({ key });
          for await (const e of iter) entries.push(e);
          if (opts.json) {
            printJson(entries.map(entryJson));
            return;
          }
          if (entries.length === 0) throw new CliError(`key "${key}" not found in bucket ${bucket}`);
          printTable(
            ["Key", "Revision", "Op", "Created", "Length", "Value"],
            entries.map((e) => [
              e.key,
              e.revision,
              e.operation,
              humanTime(e.created, false),
              e.length,
              e.operation === "PUT" ? ellipsis(displayBody(e.value)) : "",
            ]),
            `History for ${bucket} > ${key}`,
          );
        });
      }),
    );
  examples(history, "lattice kv history CONFIG mode");

  const keys = kv
    .command("keys")
    .alias("ls-keys")
    .description("list the bucket's keys (optionally only those matching filters)")
    .argument("<bucket>", "bucket name")
    .argument("[filters...]", "key filters (wildcards allowed)")
    .option("--json", "print the keys as a JSON array")
    .action(
      action(async (bucket: string, filters: string[], opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          await printKeys(s, bucket, filters, opts.json === true);
        });
      }),
    );
  examples(keys, "lattice kv keys CONFIG", "lattice kv keys CONFIG 'app.*' --json");

  const watch = kv
    .command("watch")
    .description("print each key's current value, then changes as they happen")
    .argument("<bucket>", "bucket name")
    .argument("[key]", "key or key filter (wildcards allowed)")
    .option("--count <n>", "exit after this many entries", parsePositive)
    .option("--history", "start with every stored revision rather than the latest")
    .option("--updates-only", "only changes from now on")
    .option("--ignore-deletes", "skip deletes and purges")
    .option("--json", "print one JSON object per entry")
    .action(
      action(
        async (
          bucket: string,
          key: string | undefined,
          opts: {
            count?: number;
            history?: boolean;
            updatesOnly?: boolean;
            ignoreDeletes?: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          await withSession(
            cmd,
            async (s) => {
              const b = await openBucket(s, bucket);
              const iter = await b.watch({
                key: key ?? ">",
                include: opts.updatesOnly ? "updates" : opts.history ? "history" : "",
                ignoreDeletes: opts.ignoreDeletes === true,
              });
              note(`Watching bucket ${bucket}${key ? ` for ${key}` : ""}`);
              void interrupted().then(() => iter.stop());
              let n = 0;
              for await (const e of iter) {
                n++;
                if (opts.json) out(JSON.stringify(entryJson(e)));
                else {
                  const value = e.operation === "PUT" ? displayBody(e.value) : "";
                  out(`[${humanTime(e.created, false)}] ${e.operation} ${e.bucket} > ${e.key}: ${value}`);
                }
                if (opts.count !== undefined && n >= opts.count) break;
              }
              iter.stop();
            },
            { verbose: true },
          );
        },
      ),
    );
  examples(
    watch,
    "lattice kv watch CONFIG",
    "lattice kv watch CONFIG 'app.>' --updates-only",
    "lattice kv watch CONFIG mode --count 1 --json",
  );

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
