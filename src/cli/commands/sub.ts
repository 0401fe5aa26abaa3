// lattice sub: subscribe and print messages (wildcards, queue groups, a message count, headers, raw bodies).

import type { Command } from "commander";
import { action, examples, interrupted } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { printMsg } from "../messages.js";
import { note } from "../output.js";
import { parseDuration, parsePositive } from "../parse.js";

interface SubOptions {
  queue?: string;
  count?: number;
  headers?: boolean;
  raw?: boolean;
  json?: boolean;
  wait?: number;
}

export function registerSub(program: Command): void {
  const sub = program
    .command("sub")
    .alias("subscribe")
    .description("subscribe to a subject (wildcards * and > allowed) and print what arrives")
    .argument("<subject>", "subject to subscribe to")
    .option("--queue <group>", "join this queue group (messages are shared among its members)")
    .option("--count <n>", "exit after this many messages", parsePositive)
    .option("--wait <duration>", "exit after this long, messages or not", parseDuration)
    .option("--headers", "print only message headers, no bodies")
    .option("--raw", "print only message bodies (with --headers: only the headers)")
    .option("--json", "print one JSON object per message")
    .action(
      action(async (subject: string, opts: SubOptions, cmd: Command) => {
        await withSession(
          cmd,
          async (s) => {
            const sub = s.nc.subscribe(subject, { queue: opts.queue, max: opts.count });
            await s.checkAsyncErrors();
            note(
              `Subscribing on "${subject}"${opts.queue ? ` in queue group "${opts.queue}"` : ""}${opts.count ? ` for ${opts.count} message${opts.count === 1 ? "" : "s"}` : ""}`,
            );
            const stop = () => sub.unsubscribe();
            void interrupted().then(stop);
            const timer = opts.wait !== undefined ? setTimeout(stop, opts.wait) : undefined;
            let n = 0;
            try {
              for await (const m of sub) {
                n++;
                printMsg(
                  { subject: m.subject, data: m.data, headers: m.headers, reply: m.reply, time: new Date() },
                  { raw: opts.raw, json: opts.json, headersOnly: opts.headers, label: `#${n}` },
                );
              }
            } finally {
              if (timer !== undefined) clearTimeout(timer);
            }
            const err = s.asyncErrors[0];
            if (err !== undefined) throw err;
          },
          { verbose: true },
        );
      }),
    );
  examples(
    sub,
    "lattice sub 'orders.>'",
    "lattice sub orders.new --queue workers --count 10",
    "lattice sub orders.new --raw --count 1",
    "lattice sub 'orders.*' --headers",
  );
}
