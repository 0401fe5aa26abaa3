// lattice request (req): send a request and print the reply (or several with --replies).

import type { Msg } from "@nats-io/transport-node";
import type { Command } from "commander";
import { action, bodyFrom, examples, renderTemplate } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { CliError, Exit } from "../errors.js";
import { buildHeaders, headerLines, msgToJson } from "../messages.js";
import { color, displayBody, humanDuration, note, out } from "../output.js";
import { collect, parseNonNegative, parsePositive } from "../parse.js";

interface ReqOptions {
  header?: string[];
  replies: number;
  count: number;
  raw?: boolean;
  json?: boolean;
  forceStdin?: boolean;
}

function printReply(m: Msg, rttMs: number, opts: ReqOptions): void {
  if (opts.json) {
    out(
      JSON.stringify({
        ...msgToJson({ subject: m.subject, data: m.data, headers: m.headers }),
        rtt_ms: rttMs,
      }),
    );
    return;
  }
  if (opts.raw) {
    process.stdout.write(m.data);
    out();
    return;
  }
  out(color.bold(`Received with rtt ${humanDuration(rttMs)}`));
  const hl = headerLines(m.headers);
  if (hl.length > 0) out(hl.join("\n"));
  out();
  out(displayBody(m.data));
  out();
}

export function registerRequest(program: Command): void {
  const req = program
    .command("request")
    .alias("req")
    .description("send a request and wait for the reply (templates as in pub)")
    .argument("<subject>", "subject to send the request to")
    .argument("[body]", 'request body ("-" or --force-stdin reads stdin)')
    .option("-H, --header <key:value>", "add a header (repeatable)", collect)
    .option(
      "--replies <n>",
      "wait for this many replies (0: all that arrive within --timeout)",
      parseNonNegative,
      1,
    )
    .option("--count <n>", "send this many requests, one after another", parsePositive, 1)
    .option("--raw", "print only reply bodies")
    .option("--json", "print one JSON object per reply")
    .option("--force-stdin", "read the body from stdin")
    .action(
      action(async (subject: string, bodyArg: string | undefined, opts: ReqOptions, cmd: Command) => {
        const stdinBody =
          opts.forceStdin === true || bodyArg === "-" ? await bodyFrom(bodyArg, true) : undefined;
        await withSession(cmd, async (s) => {
          const timeout = s.conn.timeoutMs;
          for (let i = 1; i <= opts.count; i++) {
            const vars = { count: i };
            const data = stdinBody ?? new TextEncoder().encode(renderTemplate(bodyArg ?? "", vars));
            const headers = buildHeaders(opts.header, (v) => renderTemplate(v, vars));
            if (!opts.raw && !opts.json) note(`Sending request on "${subject}"`);
            const started = performance.now();
            if (opts.replies === 1) {
              const m = await s.nc.request(subject, data, { timeout, headers });
              printReply(m, performance.now() - started, opts);
              continue;
            }
            const replies = await s.nc.requestMany(subject, data, {
              maxWait: timeout,
              maxMessages: opts.replies > 0 ? opts.replies : undefined,
              headers,
            });
            let n = 0;
            for await (const m of replies) {
              if (m.headers?.code === 503) break; // no responders
              n++;
              printReply(m, performance.now() - started, opts);
            }
            if (n === 0) throw new CliError(`no replies to the request on "${subject}"`, Exit.TIMEOUT);
            if (opts.replies > 0 && n < opts.replies) {
              throw new CliError(
                `only ${n} of ${opts.replies} replies arrived within the timeout`,
                Exit.TIMEOUT,
              );
            }
          }
        });
      }),
    );
  examples(
    req,
    `lattice request service.time ''`,
    `lattice req orders.lookup '{"id": 1}' -H auth:xyz --timeout 2s`,
    "lattice req service.discovery '' --replies 0 --timeout 500ms",
  );
}
