// lattice pub: publish messages, with headers, repeats, pacing and body templates ({{Count}} ...).

import type { PubAck } from "@nats-io/jetstream";
import type { Command } from "commander";
import { action, bodyFrom, examples, renderTemplate, sleep } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { buildHeaders } from "../messages.js";
import { humanBytes, humanCount, out, printJson } from "../output.js";
import { collect, parseDuration, parsePositive } from "../parse.js";

interface PubOptions {
  header?: string[];
  count: number;
  sleep?: number;
  reply?: string;
  jetstream?: boolean;
  forceStdin?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export function registerPub(program: Command): void {
  const pub = program
    .command("pub")
    .alias("publish")
    .description(
      "publish a message; the body may use templates: {{Count}} {{ID}} {{TimeStamp}} {{Unix}} {{Time}} {{Random min max}}",
    )
    .argument("<subject>", "subject to publish to")
    .argument("[body]", 'message body ("-" or --force-stdin reads stdin)')
    .option("-H, --header <key:value>", "add a header (repeatable)", collect)
    .option("--count <n>", "publish this many messages", parsePositive, 1)
    .option("--sleep <duration>", "pause between messages, e.g. 100ms", parseDuration)
    .option("--reply <subject>", "reply subject to send with the message")
    .option("-J, --jetstream", "publish to a stream and wait for its acknowledgement")
    .option("--force-stdin", "read the body from stdin")
    .option("-q, --quiet", "print nothing on success")
    .option("--json", "print a JSON summary (and the stream acknowledgements with -J)")
    .action(
      action(async (subject: string, bodyArg: string | undefined, opts: PubOptions, cmd: Command) => {
        const stdinBody =
          opts.forceStdin === true || bodyArg === "-" ? await bodyFrom(bodyArg, true) : undefined;
        await withSession(cmd, async (s) => {
          const js = opts.jetstream ? await s.js() : undefined;
          const acks: PubAck[] = [];
          let bytes = 0;
          for (let i = 1; i <= opts.count; i++) {
            if (i > 1 && opts.sleep !== undefined && opts.sleep > 0) await sleep(opts.sleep);
            const vars = { count: i };
            const data = stdinBody ?? new TextEncoder().encode(renderTemplate(bodyArg ?? "", vars));
            const headers = buildHeaders(opts.header, (v) => renderTemplate(v, vars));
            bytes += data.length;
            if (js !== undefined) {
              acks.push(await js.publish(subject, data, { headers }));
            } else {
              s.nc.publish(subject, data, { headers, reply: opts.reply });
            }
          }
          await s.checkAsyncErrors();
          if (opts.json) {
            printJson({ subject, messages: opts.count, bytes, acks: js ? acks : undefined });
            return;
          }
          if (opts.quiet) return;
          if (js !== undefined) {
            const first = acks[0];
            const last = acks[acks.length - 1];
            if (acks.length === 1) {
              out(
                `Published ${humanBytes(bytes)} to "${subject}": stored in stream ${first.stream} at sequence ${first.seq}${first.duplicate ? " (duplicate)" : ""}`,
              );
            } else {
              out(
                `Published ${humanCount(acks.length)} messages (${humanBytes(bytes)}) to "${subject}": stored in stream ${first.stream}, sequences ${first.seq}..${last.seq}`,
              );
            }
          } else if (opts.count === 1) {
            out(`Published ${humanBytes(bytes)} to "${subject}"`);
          } else {
            out(`Published ${humanCount(opts.count)} messages (${humanBytes(bytes)}) to "${subject}"`);
          }
        });
      }),
    );
  examples(
    pub,
    `lattice pub orders.new '{"id": 1}'`,
    `lattice pub orders.new 'order {{Count}} at {{TimeStamp}}' --count 10 --sleep 100ms`,
    "lattice pub orders.new hello -H trace-id:abc -H source:cli",
    "lattice pub orders.new --force-stdin < order.json",
    "lattice pub -J orders.new hello",
  );
}
