// lattice reply: answer requests on a subject with a static (templated) body, or echo them back.

import type { Command } from "commander";
import { action, examples, interrupted, renderTemplate, sleep } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { buildHeaders, printMsg } from "../messages.js";
import { note } from "../output.js";
import { collect, parseDuration, parsePositive } from "../parse.js";

interface ReplyOptions {
  echo?: boolean;
  queue?: string;
  count?: number;
  sleep?: number;
  header?: string[];
  quiet?: boolean;
}

export function registerReply(program: Command): void {
  const reply = program
    .command("reply")
    .description("answer requests: a fixed body (templates: {{Count}}, {{Request}} ...) or --echo")
    .argument("<subject>", "subject to answer on (wildcards allowed)")
    .argument("[body]", "reply body")
    .option("--echo", "reply with the request's own body and headers")
    .option("--queue <group>", "queue group, so several responders share the load")
    .option("--count <n>", "exit after answering this many requests", parsePositive)
    .option("--sleep <duration>", "wait this long before each reply", parseDuration)
    .option("-H, --header <key:value>", "add a header to each reply (repeatable)", collect)
    .option("-q, --quiet", "do not print the requests")
    .action(
      action(async (subject: string, body: string | undefined, opts: ReplyOptions, cmd: Command) => {
        if (!opts.echo && body === undefined) {
          // An empty reply is legitimate (an ack), but say so.
          note("No body given: replying with an empty body (use --echo to mirror requests)");
        }
        await withSession(
          cmd,
          async (s) => {
            const sub = s.nc.subscribe(subject, { queue: opts.queue });
            await s.checkAsyncErrors();
            note(`Listening on "${subject}"${opts.queue ? ` in queue group "${opts.queue}"` : ""}`);
            void interrupted().then(() => sub.unsubscribe());
            let n = 0;
            for await (const m of sub) {
              if (!m.reply) {
                if (!opts.quiet) note(`ignoring a message on "${m.subject}" without a reply subject`);
                continue;
              }
              n++;
              if (!opts.quiet) {
                printMsg(
                  { subject: m.subject, data: m.data, headers: m.headers, time: new Date() },
                  { label: `#${n}` },
                );
              }
              if (opts.sleep !== undefined) await sleep(opts.sleep);
              const vars = { count: n, request: Buffer.from(m.data).toString("utf8") };
              if (opts.echo) {
                const headers = buildHeaders(opts.header) ?? m.headers;
                m.respond(m.data, { headers });
              } else {
                const headers = buildHeaders(opts.header, (v) => renderTemplate(v, vars));
                m.respond(renderTemplate(body ?? "", vars), { headers });
              }
              if (opts.count !== undefined && n >= opts.count) break;
            }
            await s.nc.flush();
          },
          { verbose: true },
        );
      }),
    );
  examples(
    reply,
    "lattice reply service.time 'it is {{TimeStamp}}'",
    "lattice reply 'echo.>' --echo --queue echoers",
    "lattice reply service.ping pong --count 1",
  );
}
