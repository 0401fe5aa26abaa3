// lattice kv put|get|create|update|del|purge|revert: one key's value.

import type { Command } from "commander";
import { action, bodyFrom, confirm, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import { displayBody, ellipsis, note, out, printJson } from "../output.js";
import { parseInteger, parsePositive } from "../parse.js";
import { casFailure, openBucket, printEntry } from "./kv-common.js";

export function registerKvValues(kv: Command): void {
  const put = valueWrite(
    kv,
    "put",
    'store a value (reads stdin when the value is "-" or with --force-stdin)',
    "Stored",
    (b, key, data) => b.put(key, data),
    true,
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

  const create = valueWrite(
    kv,
    "create",
    "store a value only if the key does not exist yet",
    "Created",
    (b, key, data, bucket) =>
      b.create(key, data).catch((err: unknown) => {
        throw casFailure(err, `key "${key}" already exists in bucket ${bucket}`);
      }),
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
            const rev = await b.update(key, data, revision).catch((err: unknown) => {
              throw casFailure(err, `key "${key}" in bucket ${bucket} is no longer at revision ${revision}`);
            });
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

  const revert = kv
    .command("revert")
    .description("store an earlier revision's value again, as the key's newest revision")
    .argument("<bucket>", "bucket name")
    .argument("<key>", "key")
    .argument("<revision>", "the revision whose value to bring back", parsePositive)
    .option("-f, --force", "do not ask for confirmation")
    .option("--json", "print the new revision as JSON")
    .action(
      action(
        async (
          bucket: string,
          key: string,
          revision: number,
          opts: { force?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const b = await openBucket(s, bucket);
            const old = await b.get(key, { revision });
            if (old === null || old.key !== key) {
              throw new CliError(`no revision ${revision} of key "${key}" in bucket ${bucket}`);
            }
            if (old.operation !== "PUT") {
              throw new CliError(
                `revision ${revision} of key "${key}" in bucket ${bucket} is a ${old.operation === "DEL" ? "delete" : "purge"}, not a value`,
              );
            }
            const current = await b.get(key);
            if (current !== null && current.revision === revision) {
              if (opts.json) printJson({ bucket, key, revision, unchanged: true });
              else note(`${bucket} > ${key} is already at revision ${revision}: nothing to revert`);
              return;
            }
            if (!opts.json && !opts.force) {
              note(`Revision ${revision}: ${ellipsis(displayBody(old.value), 60)}`);
              if (current !== null) {
                const now =
                  current.operation === "PUT" ? ellipsis(displayBody(current.value), 60) : "(deleted)";
                note(`Current (revision ${current.revision}): ${now}`);
              }
            }
            await confirm(`Revert ${bucket} > ${key} to the value of revision ${revision}?`, opts.force);
            // Only over the revision just looked at: a change in between is reported, not overwritten.
            const write =
              current === null ? b.create(key, old.value) : b.update(key, old.value, current.revision);
            const rev = await write.catch((err: unknown) => {
              throw casFailure(err, `key "${key}" in bucket ${bucket} changed while reverting; try again`);
            });
            if (opts.json) printJson({ bucket, key, revision: rev, reverted_to: revision });
            else out(`Reverted ${bucket} > ${key} to the value of revision ${revision}: now revision ${rev}`);
          });
        },
      ),
    );
  examples(
    revert,
    "lattice kv history CONFIG mode   # find the revision",
    "lattice kv revert CONFIG mode 3 -f",
  );
}

type Bucket = Awaited<ReturnType<typeof openBucket>>;

/** `put` and `create`: a value from the argument or stdin, written by `write`; reports the new revision. */
function valueWrite(
  kv: Command,
  name: string,
  description: string,
  done: string,
  write: (b: Bucket, key: string, data: Uint8Array, bucket: string) => Promise<number>,
  /** put refuses to store an empty value by accident; create accepts one (a lock key, say). */
  valueRequired = false,
): Command {
  return kv
    .command(name)
    .description(description)
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
          if (valueRequired && value === undefined && !opts.forceStdin) {
            throw new CliError('give a value, or "-" / --force-stdin to read it from stdin', Exit.USAGE);
          }
          const data = await bodyFrom(value, opts.forceStdin);
          await withSession(cmd, async (s) => {
            const rev = await write(await openBucket(s, bucket), key, data, bucket);
            if (opts.json) printJson({ bucket, key, revision: rev });
            else out(`${done} ${bucket} > ${key} at revision ${rev}`);
          });
        },
      ),
    );
}
