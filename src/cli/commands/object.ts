// lattice object ls|add|put|get|info|rm|watch|seal|link: object store buckets, with a progress bar for big files.

import { createReadStream, createWriteStream, existsSync, statSync } from "node:fs";
import { rm as removeFile } from "node:fs/promises";
import { basename } from "node:path";
import { finished } from "node:stream/promises";
import { StorageType } from "@nats-io/jetstream";
import type { ObjectInfo, ObjectStoreOptions, ObjectStoreStatus } from "@nats-io/obj";
import { headers as makeHeaders } from "@nats-io/transport-node";
import { type Command, Option } from "commander";
import { bucketExists, OBJ_BUCKET } from "../buckets.js";
import { action, confirm, examples, interrupted } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import { humanBytes, humanTime, note, out, printJson, printListing } from "../output.js";
import { collect, durationNanos, pairsToRecord, parsePositive, parseSize, splitPair } from "../parse.js";
import { progressBar, progressWanted } from "../progress.js";
import {
  countingStream,
  infoJson,
  linkTarget,
  openStore,
  PROGRESS_MIN,
  printBucketStatus,
  printObjectInfo,
  statusJson,
} from "./object-common.js";

export function registerObject(program: Command): void {
  const obj = program
    .command("object")
    .alias("obj")
    .description("object store buckets: ls, add, put, get, info, link, rm, watch, seal");
  examples(
    obj,
    "lattice object add FILES",
    "lattice object put FILES ./report.pdf",
    "lattice object get FILES report.pdf -O /tmp/report.pdf",
  );

  const ls = obj
    .command("ls")
    .alias("list")
    .description("list object store buckets, or the objects in one bucket")
    .argument("[bucket]", "bucket whose objects to list")
    .option("-n, --names", "print only the names")
    .option("--json", "print the buckets or objects as JSON")
    .action(
      action(async (bucket: string | undefined, opts: { names?: boolean; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          if (bucket === undefined) {
            const all: ObjectStoreStatus[] = [];
            for await (const st of (await s.objm()).list()) all.push(st);
            all.sort((a, b) => a.bucket.localeCompare(b.bucket));
            printListing(all, opts, {
              name: (b) => b.bucket,
              json: statusJson,
              empty: "No Object Store buckets found",
              head: ["Bucket", "Description", "Created", "Size", "Sealed", "Last Update"],
              row: (b) => [
                b.bucket,
                b.description,
                humanTime(b.streamInfo.created, false),
                humanBytes(b.size),
                String(b.sealed),
                b.streamInfo.state.last_seq > 0 ? humanTime(b.streamInfo.state.last_ts) : "never",
              ],
              title: `Object Store Buckets (${all.length})`,
            });
            return;
          }
          const store = await openStore(s, bucket);
          const objects = (await store.list()).filter((o) => !o.deleted);
          objects.sort((a, b) => a.name.localeCompare(b.name));
          printListing(objects, opts, {
            name: (o) => o.name,
            json: (o) => infoJson(o, bucket),
            empty: `No objects in bucket ${bucket}`,
            head: ["Name", "Size", "Time"],
            row: (o) => [
              o.name,
              o.options?.link ? `link to ${linkTarget(o.options.link)}` : humanBytes(o.size),
              humanTime(o.mtime, false),
            ],
            title: `Bucket ${bucket} (${objects.length} object${objects.length === 1 ? "" : "s"})`,
          });
        });
      }),
    );
  examples(ls, "lattice object ls", "lattice object ls FILES", "lattice object ls FILES --json");

  const add = obj
    .command("add")
    .description("create an object store bucket")
    .argument("<bucket>", "bucket name")
    .option("--ttl <duration>", "how long objects live (default: forever)", durationNanos)
    .option("--replicas <n>", "replicas", parsePositive, 1)
    .option("--max-bucket-size <size>", "largest total size (-1 unlimited)", parseSize)
    .addOption(new Option("--storage <type>", "storage backend").choices(["file", "memory"]).default("file"))
    .option("--description <text>", "description")
    .option("--compression", "compress stored chunks (s2)")
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--json", "print the bucket status as JSON")
    .action(
      action(
        async (
          bucket: string,
          opts: {
            ttl?: number;
            replicas: number;
            maxBucketSize?: number;
            storage: string;
            description?: string;
            compression?: boolean;
            metadata?: string[];
            json?: boolean;
          },
          cmd: Command,
        ) => {
          const o: Partial<ObjectStoreOptions> = {
            replicas: opts.replicas,
            storage: opts.storage === "memory" ? StorageType.Memory : StorageType.File,
          };
          if (opts.ttl !== undefined) o.ttl = opts.ttl;
          if (opts.maxBucketSize !== undefined) o.max_bytes = opts.maxBucketSize;
          if (opts.description !== undefined) o.description = opts.description;
          if (opts.compression) o.compression = true;
          const md = pairsToRecord(opts.metadata);
          if (md !== undefined) o.metadata = md;
          await withSession(cmd, async (s) => {
            if (await bucketExists(s, OBJ_BUCKET, bucket))
              throw new CliError(`object store bucket "${bucket}" already exists`);
            const store = await (await s.objm()).create(bucket, o);
            const st = await store.status();
            if (opts.json) printJson(statusJson(st));
            else printBucketStatus(st);
          });
        },
      ),
    );
  examples(
    add,
    "lattice object add FILES",
    "lattice object add CACHE --ttl 24h --storage memory --max-bucket-size 1GiB",
  );

  const put = obj
    .command("put")
    .description("store a file (or stdin) as an object")
    .argument("<bucket>", "bucket name")
    .argument("[file]", 'file to store ("-" or omitted: stdin, which needs --name)')
    .option("--name <name>", "object name (default: the file's name)")
    .option("--description <text>", "description")
    .option("-H, --header <key:value>", "header stored with the object (repeatable)", collect)
    .option("--no-progress", "no progress bar")
    .option("--json", "print the object information as JSON")
    .action(
      action(
        async (
          bucket: string,
          file: string | undefined,
          opts: { name?: string; description?: string; header?: string[]; progress: boolean; json?: boolean },
          cmd: Command,
        ) => {
          const fromStdin = file === undefined || file === "-";
          const name = opts.name ?? (fromStdin ? undefined : basename(file));
          if (name === undefined || name === "") throw new CliError("reading stdin needs --name", Exit.USAGE);
          let size = 0;
          if (!fromStdin) {
            try {
              const st = statSync(file);
              if (!st.isFile()) throw new Error("not a regular file");
              size = st.size;
            } catch (err) {
              throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
            }
          }
          let hdrs: ReturnType<typeof makeHeaders> | undefined;
          for (const h of opts.header ?? []) {
            hdrs ??= makeHeaders();
            const [k, v] = splitPair(h);
            hdrs.append(k, v);
          }
          await withSession(cmd, async (s) => {
            const store = await openStore(s, bucket);
            const bar = progressBar(
              size,
              "bytes",
              `put ${name}`,
              size >= PROGRESS_MIN && progressWanted(!opts.progress),
            );
            const src = fromStdin ? process.stdin : createReadStream(file);
            try {
              const info = await store.put(
                { name, description: opts.description, headers: hdrs },
                countingStream(src, (n) => bar.increment(n)),
              );
              bar.stop();
              if (opts.json) printJson(infoJson(info, bucket));
              else printObjectInfo(info, bucket);
            } finally {
              bar.stop();
            }
          });
        },
      ),
    );
  examples(
    put,
    "lattice object put FILES ./report.pdf",
    "lattice object put FILES ./build.tgz --name releases/v1.tgz",
    "tar cz . | lattice object put FILES --name backup.tgz",
  );

  const get = obj
    .command("get")
    .description("fetch an object into a file (or stdout with -O -)")
    .argument("<bucket>", "bucket name")
    .argument("<name>", "object name")
    .option(
      "-O, --output <file>",
      "where to write it (default: the object's name in this directory; - for stdout)",
    )
    .option("-f, --force", "overwrite an existing file")
    .option("--no-progress", "no progress bar")
    .action(
      action(
        async (
          bucket: string,
          name: string,
          opts: { output?: string; force?: boolean; progress: boolean },
          cmd: Command,
        ) => {
          const target = opts.output ?? basename(name);
          const toStdout = target === "-";
          if (!toStdout && existsSync(target) && !opts.force) {
            throw new CliError(
              `${target} exists: use --force to overwrite it, or --output to choose another file`,
            );
          }
          await withSession(cmd, async (s) => {
            const store = await openStore(s, bucket);
            const meta = await store.info(name);
            if (meta?.options?.link && !meta.options.link.name) {
              throw new CliError(
                `${bucket} > ${name} links to the whole bucket ${meta.options.link.bucket}: get an object from it (lattice object ls ${meta.options.link.bucket})`,
              );
            }
            const r = await store.get(name);
            if (r === null) throw new CliError(`object "${name}" not found in bucket ${bucket}`);
            const bar = progressBar(
              r.info.size,
              "bytes",
              `get ${name}`,
              r.info.size >= PROGRESS_MIN && progressWanted(!opts.progress),
            );
            const sink = toStdout ? process.stdout : createWriteStream(target);
            let written = 0;
            try {
              const reader = r.data.getReader();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                written += value.length;
                bar.update(written);
                if (!sink.write(value))
                  await new Promise((res) => (sink as NodeJS.WritableStream).once("drain", res));
              }
              const err = await r.error;
              if (err) throw err;
            } catch (err) {
              if (!toStdout) {
                // No half-written file left behind.
                (sink as ReturnType<typeof createWriteStream>).destroy();
                await removeFile(target, { force: true });
              }
              throw err;
            } finally {
              bar.stop();
              if (!toStdout) {
                (sink as ReturnType<typeof createWriteStream>).end();
                await finished(sink).catch(() => {});
              }
            }
            if (!toStdout) note(`Wrote ${humanBytes(written)} to ${target}`);
          });
        },
      ),
    );
  examples(
    get,
    "lattice object get FILES report.pdf",
    "lattice object get FILES releases/v1.tgz -O /tmp/v1.tgz --force",
    "lattice object get FILES notes.txt -O -",
  );

  const info = obj
    .command("info")
    .description("show a bucket's status, or an object's information")
    .argument("<bucket>", "bucket name")
    .argument("[name]", "object name")
    .option("--json", "print as JSON")
    .action(
      action(async (bucket: string, name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const store = await openStore(s, bucket);
          if (name === undefined) {
            const st = await store.status();
            if (opts.json) printJson(statusJson(st));
            else printBucketStatus(st);
            return;
          }
          const i = await store.info(name);
          if (i === null || i.deleted) throw new CliError(`object "${name}" not found in bucket ${bucket}`);
          if (opts.json) printJson(infoJson(i, bucket));
          else printObjectInfo(i, bucket);
        });
      }),
    );
  examples(info, "lattice object info FILES", "lattice object info FILES report.pdf --json");

  const rm = obj
    .command("rm")
    .alias("delete")
    .description("delete an object, or (without a name) the whole bucket")
    .argument("<bucket>", "bucket name")
    .argument("[name]", "object name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (bucket: string, name: string | undefined, opts: { force?: boolean }, cmd: Command) => {
        await confirm(
          name === undefined
            ? `Really delete bucket ${bucket} and every object in it?`
            : `Really delete ${bucket} > ${name}?`,
          opts.force,
        );
        await withSession(cmd, async (s) => {
          const store = await openStore(s, bucket);
          if (name === undefined) {
            await store.destroy();
            out(`Deleted bucket ${bucket}`);
            return;
          }
          const i = await store.info(name);
          if (i === null || i.deleted) throw new CliError(`object "${name}" not found in bucket ${bucket}`);
          await store.delete(name);
          out(`Deleted ${bucket} > ${name}`);
        });
      }),
    );
  examples(rm, "lattice object rm FILES report.pdf -f", "lattice object rm FILES -f");

  const watch = obj
    .command("watch")
    .description("print changes to a bucket's objects as they happen")
    .argument("<bucket>", "bucket name")
    .option("--count <n>", "exit after this many changes", parsePositive)
    .option("--history", "start with the objects already stored")
    .option("--json", "print one JSON object per change")
    .action(
      action(
        async (bucket: string, opts: { count?: number; history?: boolean; json?: boolean }, cmd: Command) => {
          await withSession(
            cmd,
            async (s) => {
              const store = await openStore(s, bucket);
              const iter = await store.watch({ includeHistory: opts.history === true });
              note(`Watching object store bucket ${bucket}`);
              void interrupted().then(() => iter.stop());
              let n = 0;
              for await (const i of iter) {
                if (i === null) continue; // end-of-history marker from the library
                n++;
                if (opts.json) out(JSON.stringify(infoJson(i, bucket)));
                else
                  out(
                    `[${humanTime(i.mtime, false)}] ${i.deleted ? "DEL" : "PUT"} ${i.bucket} > ${i.name}: ${humanBytes(i.size)}`,
                  );
                if (opts.count !== undefined && n >= opts.count) break;
              }
              iter.stop();
            },
            { verbose: true },
          );
        },
      ),
    );
  examples(watch, "lattice object watch FILES", "lattice object watch FILES --history --count 5");

  const seal = obj
    .command("seal")
    .description("seal a bucket: no more changes, ever")
    .argument("<bucket>", "bucket name")
    .option("-f, --force", "do not ask for confirmation")
    .option("--json", "print the bucket status as JSON")
    .action(
      action(async (bucket: string, opts: { force?: boolean; json?: boolean }, cmd: Command) => {
        await confirm(`Really seal bucket ${bucket}? This cannot be undone.`, opts.force);
        await withSession(cmd, async (s) => {
          const store = await openStore(s, bucket);
          const st = await store.seal();
          if (opts.json) printJson(statusJson(st));
          else out(`Sealed bucket ${bucket}`);
        });
      }),
    );
  examples(seal, "lattice object seal FILES -f");

  const link = obj
    .command("link")
    .description("add a link to an object (or a whole bucket), in this bucket or another one")
    .argument("<bucket>", "bucket to put the link in")
    .argument("<name>", "name of the link")
    .argument("<target-bucket>", "bucket the link points into")
    .argument("[target-object]", "object the link points to (omitted: the whole target bucket)")
    .option("--json", "print the link's object information as JSON")
    .action(
      action(
        async (
          bucket: string,
          name: string,
          targetBucket: string,
          targetObject: string | undefined,
          opts: { json?: boolean },
          cmd: Command,
        ) => {
          await withSession(cmd, async (s) => {
            const store = await openStore(s, bucket);
            const target = targetBucket === bucket ? store : await openStore(s, targetBucket);
            let info: ObjectInfo;
            if (targetObject === undefined) {
              info = await store.linkStore(name, target);
            } else {
              const meta = await target.info(targetObject);
              if (meta === null || meta.deleted) {
                throw new CliError(`object "${targetObject}" not found in bucket ${targetBucket}`);
              }
              if (meta.options?.link) {
                throw new CliError(
                  `${targetBucket} > ${targetObject} is itself a link (to ${linkTarget(meta.options.link)}): links of links are not allowed`,
                );
              }
              info = await store.link(name, meta);
            }
            if (opts.json) printJson(infoJson(info, bucket));
            else printObjectInfo(info, bucket);
          });
        },
      ),
    );
  examples(
    link,
    "lattice object link FILES latest.tgz FILES releases/v1.tgz",
    "lattice object link FILES shared-assets ASSETS   # the whole ASSETS bucket",
  );
}
