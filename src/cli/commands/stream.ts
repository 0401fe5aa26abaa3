// lattice stream ls|add|info|edit|rm|seal (and, from their own files, purge|view|get|rmm|subjects|backup|restore):
// manage JetStream streams.

import type { StreamConfig, StreamInfo } from "@nats-io/jetstream";
import type { Command } from "commander";
import { action, confirm, examples } from "../command-kit.js";
import { diffConfigs, type Flags, loadConfigFile } from "../config-flags.js";
import { withSession } from "../connect-options.js";
import { usageError } from "../errors.js";
import { ago, humanBytes, note, out, printJson, printListing } from "../output.js";
import { registerStreamBackup } from "./stream-backup.js";
import { addConfigOptions, applyStreamFlags } from "./stream-config.js";
import { printStreamInfo } from "./stream-info.js";
import { registerStreamMessages } from "./stream-messages.js";

/** The backing stream of a key-value or object store bucket (by its name and subjects, not its name alone). */
export function isBucketStream(c: StreamConfig): boolean {
  const subjects = c.subjects ?? [];
  if (c.name.startsWith("KV_")) return subjects.includes(`$KV.${c.name.slice(3)}.>`);
  if (c.name.startsWith("OBJ_")) return subjects.includes(`$O.${c.name.slice(4)}.C.>`);
  return false;
}

export function registerStream(program: Command): void {
  const stream = program
    .command("stream")
    .alias("str")
    .description(
      "manage JetStream streams: ls, add, info, edit, rm, seal, purge, view, get, rmm, subjects, backup, restore",
    );
  examples(
    stream,
    "lattice stream ls",
    "lattice stream add ORDERS --subjects 'orders.>'",
    "lattice stream info ORDERS",
  );

  const ls = stream
    .command("ls")
    .alias("list")
    .description("list streams: name, subjects, messages, size, last message")
    .option("--subject <subject>", "only streams that listen on this subject")
    .option("-a, --all", "include the streams behind key-value and object store buckets")
    .option("-n, --names", "print only the names")
    .option("--json", "print the stream information as JSON")
    .action(
      action(
        async (opts: { subject?: string; all?: boolean; names?: boolean; json?: boolean }, cmd: Command) => {
          await withSession(cmd, async (s) => {
            const jsm = await s.jsm();
            const infos: StreamInfo[] = [];
            let hidden = 0;
            for await (const si of jsm.streams.list(opts.subject)) {
              if (!opts.all && isBucketStream(si.config)) hidden++;
              else infos.push(si);
            }
            infos.sort((a, b) => a.config.name.localeCompare(b.config.name));
            printListing(infos, opts, {
              name: (i) => i.config.name,
              empty:
                hidden > 0
                  ? `No streams defined (${hidden} behind key-value or object store buckets: --all shows them)`
                  : "No streams defined",
              head: ["Name", "Subjects", "Messages", "Size", "Last Message"],
              row: (i) => [
                i.config.name,
                (i.config.subjects ?? []).join(", ") ||
                  (i.config.mirror ? `mirror of ${i.config.mirror.name}` : ""),
                i.state.messages,
                humanBytes(i.state.bytes),
                i.state.messages > 0 || i.state.last_seq > 0 ? ago(i.state.last_ts) : "never",
              ],
              title: `Streams (${infos.length})`,
            });
          });
        },
      ),
    );
  examples(
    ls,
    "lattice stream ls",
    "lattice stream ls --all   # with the streams behind kv and object buckets",
    "lattice stream ls --subject 'orders.new' --names",
    "lattice stream ls --json",
  );

  const add = addConfigOptions(
    stream
      .command("add")
      .alias("create")
      .description("create a stream from flags, or from a JSON configuration file")
      .argument("[name]", "stream name (or the name in --config)"),
    "add",
  ).action(
    action(async (name: string | undefined, opts: Flags, cmd: Command) => {
      const base: Partial<StreamConfig> =
        opts.config !== undefined ? loadConfigFile<StreamConfig>(opts.config as string, "stream") : {};
      const cfg = applyStreamFlags(base, opts);
      cfg.name = name ?? cfg.name;
      if (cfg.name === undefined || cfg.name === "")
        throw usageError('a stream name is needed (argument or "name" in --config)');
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const si = await jsm.streams.add(cfg as StreamConfig);
        if (opts.json) printJson(si);
        else printStreamInfo(si, "Stream");
      });
    }),
  );
  examples(
    add,
    "lattice stream add ORDERS --subjects 'orders.>' --max-age 24h --storage file",
    "lattice stream add EVENTS --subjects 'events.*' --max-msgs-per-subject 10 --discard new --replicas 1",
    "lattice stream add --config orders.json",
  );

  const info = stream
    .command("info")
    .description("show a stream's configuration and state")
    .argument("<stream>", "stream name")
    .option("--json", "print the stream information as JSON")
    .action(
      action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const si = await (await s.jsm()).streams.info(name);
          if (opts.json) printJson(si);
          else printStreamInfo(si, "Information for Stream");
        });
      }),
    );
  examples(info, "lattice stream info ORDERS", "lattice stream info ORDERS --json");

  const edit = addConfigOptions(
    stream
      .command("edit")
      .alias("update")
      .description("change a stream's configuration (only the fields given change)")
      .argument("<stream>", "stream name"),
    "edit",
  ).action(
    action(async (name: string, opts: Flags, cmd: Command) => {
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const current = (await jsm.streams.info(name)).config;
        const before = structuredClone(current) as unknown as Record<string, unknown>;
        let next: Partial<StreamConfig> = structuredClone(current);
        if (opts.config !== undefined)
          next = { ...next, ...loadConfigFile<StreamConfig>(opts.config as string, "stream"), name };
        next = applyStreamFlags(next, opts);
        const changes = diffConfigs(before, next as Record<string, unknown>);
        if (changes.length === 0) {
          if (opts.json) printJson(await jsm.streams.info(name));
          else note(`Stream ${name}: nothing to change`);
          return;
        }
        const si = await jsm.streams.update(name, next);
        if (opts.json) {
          printJson(si);
          return;
        }
        out(`Stream ${name} was updated:`);
        out(changes.join("\n"));
        out();
        printStreamInfo(si, "Information for Stream");
      });
    }),
  );
  examples(
    edit,
    "lattice stream edit ORDERS --max-age 48h",
    "lattice stream edit ORDERS --subjects 'orders.>' --subjects 'returns.>'",
    "lattice stream edit ORDERS --no-allow-rollup --description 'order events'",
  );

  const rm = stream
    .command("rm")
    .alias("delete")
    .description("delete a stream and all its messages")
    .argument("<stream>", "stream name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete stream ${name}?`, opts.force);
        await withSession(cmd, async (s) => {
          await (await s.jsm()).streams.delete(name);
          out(`Deleted stream ${name}`);
        });
      }),
    );
  examples(rm, "lattice stream rm ORDERS -f");

  const seal = stream
    .command("seal")
    .description("seal a stream: no more writes, deletes or purges, ever (the same as edit --seal)")
    .argument("<stream>", "stream name")
    .option("-f, --force", "do not ask for confirmation")
    .option("--json", "print the sealed stream's information as JSON")
    .action(
      action(async (name: string, opts: { force?: boolean; json?: boolean }, cmd: Command) => {
        await confirm(`Really seal stream ${name}? This cannot be undone`, opts.force);
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const current = (await jsm.streams.info(name)).config;
          const si = current.sealed
            ? await jsm.streams.info(name)
            : await jsm.streams.update(name, { ...current, sealed: true } as Partial<StreamConfig>);
          if (opts.json) printJson(si);
          else {
            out(`Stream ${name} is sealed`);
            out();
            printStreamInfo(si, "Information for Stream");
          }
        });
      }),
    );
  examples(seal, "lattice stream seal ORDERS -f");

  registerStreamMessages(stream);
  registerStreamBackup(stream);
}
