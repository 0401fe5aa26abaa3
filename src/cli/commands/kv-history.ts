// lattice kv history|keys|watch|compact: a bucket's keys and their revisions over time.

import type { KV, KvEntry } from "@nats-io/kv";
import type { Command } from "commander";
import { action, confirm, examples, interrupted } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError } from "../errors.js";
import { displayBody, ellipsis, humanCount, humanTime, note, out, printJson, printTable } from "../output.js";
import { parseDuration, parsePositive } from "../parse.js";
import { entryJson, openBucket, printKeys } from "./kv-common.js";

export function registerKvHistory(kv: Command): void {
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

  const compact = kv
    .command("compact")
    .description(
      "reclaim the space of deleted keys: drop what is left of their history, and delete markers older than --older-than",
    )
    .argument("<bucket>", "bucket name")
    .option(
      "--older-than <duration>",
      "delete markers at least this old go too (younger ones stay, so watchers still see the delete)",
      parseDuration,
      30 * 60 * 1000,
    )
    .option("-f, --force", "do not ask for confirmation")
    .option("--json", "print how many messages were removed as JSON")
    .action(
      action(
        async (
          bucket: string,
          opts: { olderThan: number; force?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          await confirm(`Really remove the history of deleted keys in bucket ${bucket}?`, opts.force);
          await withSession(cmd, async (s) => {
            const b = (await openBucket(s, bucket)) as KV & {
              purgeDeletes?: (olderMillis?: number) => Promise<{ purged: number }>;
            };
            if (typeof b.purgeDeletes !== "function") {
              throw new CliError("this version of the key-value library cannot compact buckets");
            }
            const r = await b.purgeDeletes(opts.olderThan);
            if (opts.json) printJson({ bucket, purged: r.purged });
            else out(`Compacted bucket ${bucket}: removed ${humanCount(r.purged)} messages`);
          });
        },
      ),
    );
  examples(compact, "lattice kv compact CONFIG -f", "lattice kv compact CONFIG --older-than 0s -f --json");
}
