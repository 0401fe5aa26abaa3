// lattice consumer ls|add|info|edit|rm|next|pause|resume: manage JetStream consumers and pull from them.

import type { ConsumerConfig, ConsumerInfo, JsMsg } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import type { Command } from "commander";
import { action, confirm, examples } from "../command-kit.js";
import { diffConfigs, type Flags, loadConfigFile } from "../config-flags.js";
import { withSession } from "../connect-options.js";
import { CliError, Exit, usageError } from "../errors.js";
import { printMsg } from "../messages.js";
import { ago, humanCount, humanTime, note, out, printJson, printListing } from "../output.js";
import { parseDuration, parsePositive } from "../parse.js";
import { addConsumerOptions, applyConsumerFlags, printConsumerInfo } from "./consumer-config.js";

/** "1h" from now, or an RFC 3339 time. */
function pauseUntil(spec: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(spec)) {
    const t = Date.parse(spec);
    if (!Number.isNaN(t)) return new Date(t);
  }
  try {
    return new Date(Date.now() + parseDuration(spec));
  } catch {
    throw usageError(`"${spec}" is neither a duration (1h) nor a time (2025-01-01T00:00:00Z)`);
  }
}

function pauseNeedsNewerServer(err: unknown, version: string | undefined): never {
  if (err instanceof TimeoutError || (err instanceof Error && /timeout/i.test(err.message))) {
    throw new CliError(
      `the server did not answer: pausing consumers needs nats-server 2.11 or later (this server says ${version ?? "unknown"})`,
      Exit.FAILED,
    );
  }
  throw err;
}

export function registerConsumer(program: Command): void {
  const consumer = program
    .command("consumer")
    .alias("con")
    .description("manage JetStream consumers: ls, add, info, edit, rm, next, pause, resume");
  examples(
    consumer,
    "lattice consumer ls ORDERS",
    "lattice consumer add ORDERS worker --filter 'orders.new'",
    "lattice consumer next ORDERS worker",
  );

  const ls = consumer
    .command("ls")
    .alias("list")
    .description("list a stream's consumers")
    .argument("<stream>", "stream name")
    .option("-n, --names", "print only the names")
    .option("--json", "print the consumer information as JSON")
    .action(
      action(async (stream: string, opts: { names?: boolean; json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const infos: ConsumerInfo[] = [];
          for await (const ci of jsm.consumers.list(stream)) infos.push(ci);
          infos.sort((a, b) => a.name.localeCompare(b.name));
          printListing(infos, opts, {
            name: (i) => i.name,
            empty: `No consumers defined on stream ${stream}`,
            head: ["Name", "Type", "Description", "Created", "Ack Pending", "Unprocessed", "Last Delivery"],
            row: (i) => [
              i.name,
              i.config.deliver_subject ? "Push" : "Pull",
              i.config.description ?? "",
              ago(i.created),
              i.num_ack_pending,
              i.num_pending,
              typeof i.delivered.last_active === "string" ? ago(i.delivered.last_active) : "never",
            ],
            title: `Consumers on stream ${stream} (${infos.length})`,
          });
        });
      }),
    );
  examples(ls, "lattice consumer ls ORDERS", "lattice consumer ls ORDERS --json");

  const add = addConsumerOptions(
    consumer
      .command("add")
      .alias("create")
      .description(
        "create a consumer from flags or a JSON configuration file (a durable pull consumer by default)",
      )
      .argument("<stream>", "stream name")
      .argument("[name]", "durable name (omit with --ephemeral)"),
    "add",
  ).action(
    action(async (stream: string, name: string | undefined, opts: Flags, cmd: Command) => {
      const base: Partial<ConsumerConfig> =
        opts.config !== undefined ? loadConfigFile<ConsumerConfig>(opts.config as string, "consumer") : {};
      const cfg = applyConsumerFlags(base, opts) as Record<string, unknown>;
      cfg.ack_policy ??= "explicit";
      cfg.deliver_policy ??= "all";
      cfg.replay_policy ??= "instant";
      const durable = name ?? (cfg.durable_name as string | undefined) ?? (cfg.name as string | undefined);
      if (opts.ephemeral) {
        if (name !== undefined) cfg.name = name;
        delete cfg.durable_name;
      } else {
        if (durable === undefined) throw usageError("give the consumer a name, or use --ephemeral");
        cfg.durable_name = durable;
        cfg.name = durable;
      }
      await withSession(cmd, async (s) => {
        const ci = await (await s.jsm()).consumers.add(stream, cfg as Partial<ConsumerConfig>);
        if (opts.json) printJson(ci);
        else printConsumerInfo(ci);
      });
    }),
  );
  examples(
    add,
    "lattice consumer add ORDERS worker --filter 'orders.new' --ack explicit --max-deliver 5 --wait 30s",
    "lattice consumer add ORDERS audit --deliver 1h --replay original",
    "lattice consumer add ORDERS pusher --target deliver.orders --deliver new --heartbeat 5s --flow-control",
    "lattice consumer add ORDERS --config worker.json",
  );

  const info = consumer
    .command("info")
    .description("show a consumer's configuration and state")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--json", "print the consumer information as JSON")
    .action(
      action(async (stream: string, name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const ci = await (await s.jsm()).consumers.info(stream, name);
          if (opts.json) printJson(ci);
          else printConsumerInfo(ci);
        });
      }),
    );
  examples(info, "lattice consumer info ORDERS worker", "lattice consumer info ORDERS worker --json");

  const edit = addConsumerOptions(
    consumer
      .command("edit")
      .description("change a consumer's configuration (only the fields given change)")
      .argument("<stream>", "stream name")
      .argument("<consumer>", "consumer name"),
    "edit",
  ).action(
    action(async (stream: string, name: string, opts: Flags, cmd: Command) => {
      await withSession(cmd, async (s) => {
        const jsm = await s.jsm();
        const current = (await jsm.consumers.info(stream, name)).config;
        let next: Partial<ConsumerConfig> = structuredClone(current);
        if (opts.config !== undefined)
          next = { ...next, ...loadConfigFile<ConsumerConfig>(opts.config as string, "consumer") };
        next = applyConsumerFlags(next, opts);
        const changes = diffConfigs(
          current as unknown as Record<string, unknown>,
          next as unknown as Record<string, unknown>,
        );
        if (changes.length === 0) {
          if (opts.json) printJson(await jsm.consumers.info(stream, name));
          else note(`Consumer ${stream} > ${name}: nothing to change`);
          return;
        }
        const ci = await jsm.consumers.update(stream, name, next);
        if (opts.json) {
          printJson(ci);
          return;
        }
        out(`Consumer ${stream} > ${name} was updated:`);
        out(changes.join("\n"));
        out();
        printConsumerInfo(ci);
      });
    }),
  );
  examples(
    edit,
    "lattice consumer edit ORDERS worker --max-deliver 10 --description 'order worker'",
    "lattice consumer edit ORDERS worker --filter 'orders.new,orders.paid' --backoff 1s,10s,1m",
  );

  const rm = consumer
    .command("rm")
    .alias("delete")
    .description("delete a consumer")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (stream: string, name: string, opts: { force?: boolean }, cmd: Command) => {
        await confirm(`Really delete consumer ${stream} > ${name}?`, opts.force);
        await withSession(cmd, async (s) => {
          await (await s.jsm()).consumers.delete(stream, name);
          out(`Deleted consumer ${stream} > ${name}`);
        });
      }),
    );
  examples(rm, "lattice consumer rm ORDERS worker -f");

  const next = consumer
    .command("next")
    .description("pull the next message(s) from a pull consumer and acknowledge them")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--count <n>", "pull this many messages", parsePositive, 1)
    .option("--wait <duration>", "how long to wait for messages (default: --timeout)", parseDuration)
    .option("--ack", "acknowledge each message once printed (the default)")
    .option("--no-ack", "do not acknowledge (they will be redelivered after the ack wait)")
    .option("--nak", "negatively acknowledge instead (redeliver now)")
    .option("--term", "terminate instead (never redeliver)")
    .option("--raw", "print only message bodies")
    .option("--json", "print one JSON object per message")
    .action(
      action(
        async (
          stream: string,
          name: string,
          opts: {
            count: number;
            wait?: number;
            /** undefined unless --ack or --no-ack was given: acknowledging is the default. */
            ack?: boolean;
            nak?: boolean;
            term?: boolean;
            raw?: boolean;
            json?: boolean;
          },
          cmd: Command,
        ) => {
          if (opts.nak && opts.term) throw usageError("--nak and --term cannot be combined");
          const ack = opts.ack !== false;
          if (!ack && (opts.nak || opts.term)) {
            throw usageError(`--no-ack and --${opts.nak ? "nak" : "term"} cannot be combined`);
          }
          await withSession(cmd, async (s) => {
            const ci = await (await s.jsm()).consumers.info(stream, name);
            if (ci.config.deliver_subject) {
              throw new CliError(
                `consumer ${stream} > ${name} is a push consumer: subscribe to its delivery subject instead (lattice sub ${ci.config.deliver_subject})`,
              );
            }
            const c = await (await s.js()).consumers.get(stream, name);
            const expires = Math.max(1000, Math.round(opts.wait ?? s.conn.timeoutMs));
            const iter = await c.fetch({ max_messages: opts.count, expires });
            let got = 0;
            for await (const m of iter) {
              got++;
              printJsMsg(m, opts);
              if (opts.term) m.term();
              else if (opts.nak) m.nak();
              else if (ack && ci.config.ack_policy !== "none") {
                // Wait for the server to confirm, so the message is really done when the command exits.
                const confirmed = await m.ackAck().catch(() => false);
                if (!confirmed) note(`warning: the acknowledgement of message ${m.seq} was not confirmed`);
              }
            }
            await s.nc.flush();
            if (got === 0) throw new CliError(`no messages available from ${stream} > ${name}`, Exit.TIMEOUT);
            if (got < opts.count && !opts.json && !opts.raw)
              note(`received ${got} of ${opts.count} messages`);
          });
        },
      ),
    );
  examples(
    next,
    "lattice consumer next ORDERS worker",
    "lattice consumer next ORDERS worker --count 10 --raw",
    "lattice consumer next ORDERS worker --no-ack --wait 2s",
  );

  const pause = consumer
    .command("pause")
    .description(
      "pause delivery from a consumer until a time (or for a duration); needs nats-server 2.11+ or Lattice",
    )
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .argument("<until>", "a duration (1h) or a time (2025-01-01T00:00:00Z)")
    .option("--json", "print the pause result as JSON")
    .action(
      action(async (stream: string, name: string, until: string, opts: { json?: boolean }, cmd: Command) => {
        const when = pauseUntil(until);
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const r = await jsm.consumers
            .pause(stream, name, when)
            .catch((e) => pauseNeedsNewerServer(e, s.nc.info?.version));
          if (opts.json) {
            printJson(r);
            return;
          }
          if (!r.paused) throw new CliError(`consumer ${stream} > ${name} was not paused`);
          out(`Paused consumer ${stream} > ${name} until ${humanTime(r.pause_until ?? when.toISOString())}`);
        });
      }),
    );
  examples(
    pause,
    "lattice consumer pause ORDERS worker 30m",
    "lattice consumer pause ORDERS worker 2030-01-01T00:00:00Z",
  );

  const resume = consumer
    .command("resume")
    .alias("unpause")
    .description("resume a paused consumer")
    .argument("<stream>", "stream name")
    .argument("<consumer>", "consumer name")
    .option("--json", "print the result as JSON")
    .action(
      action(async (stream: string, name: string, opts: { json?: boolean }, cmd: Command) => {
        await withSession(cmd, async (s) => {
          const r = await (await s.jsm()).consumers
            .resume(stream, name)
            .catch((e) => pauseNeedsNewerServer(e, s.nc.info?.version));
          if (opts.json) printJson(r);
          else out(`Resumed consumer ${stream} > ${name}`);
        });
      }),
    );
  examples(resume, "lattice consumer resume ORDERS worker");
}

function printJsMsg(m: JsMsg, opts: { raw?: boolean; json?: boolean }): void {
  if (opts.json) {
    out(
      JSON.stringify({
        subject: m.subject,
        seq: m.seq,
        time: m.time.toISOString(),
        delivery: {
          stream_seq: m.info.streamSequence,
          consumer_seq: m.info.deliverySequence,
          delivered: m.info.deliveryCount,
          pending: m.info.pending,
        },
        headers: m.headers ? Object.fromEntries([...m.headers]) : undefined,
        data: Buffer.from(m.data).toString("utf8"),
      }),
    );
    return;
  }
  printMsg(
    {
      subject: m.subject,
      data: m.data,
      headers: m.headers,
      time: m.time,
      extra: [
        `consumer seq ${m.info.deliverySequence}`,
        `pending ${humanCount(m.info.pending)}`,
        ...(m.info.deliveryCount > 1 ? [`delivered ${m.info.deliveryCount} times`] : []),
      ],
    },
    { raw: opts.raw, label: String(m.seq) },
  );
}
