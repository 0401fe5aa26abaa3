// lattice context add|select|ls|rm|info: saved connection settings, so `--context prod` (or the selected
// context) replaces a row of connection flags.

import type { Command } from "commander";
import { action, confirm, examples } from "../command-kit.js";
import { explicitConnectionValues } from "../connect-options.js";
import {
  CONTEXT_KEYS,
  type ContextSettings,
  configDir,
  contextExists,
  contextPath,
  listContexts,
  loadContext,
  removeContext,
  saveContext,
  selectContext,
  selectedContext,
  validContextName,
} from "../contexts.js";
import { CliError } from "../errors.js";
import { color, out, printJson, printSections, printTable } from "../output.js";

const SECRET: ReadonlySet<keyof ContextSettings> = new Set(["password", "token"]);

const LABELS: Record<keyof ContextSettings, string> = {
  description: "Description",
  url: "Server URLs",
  user: "User",
  password: "Password",
  token: "Token",
  nkey: "NKey Seed File",
  creds: "Credentials File",
  tlscert: "TLS Certificate",
  tlskey: "TLS Key",
  tlsca: "TLS CA",
  tlsfirst: "TLS First",
  timeout: "Timeout",
  jsDomain: "JetStream Domain",
  monitor: "Monitoring URL",
};

function masked(ctx: ContextSettings): ContextSettings {
  const copy: ContextSettings = { ...ctx };
  for (const k of SECRET) if (copy[k] !== undefined) (copy as Record<string, unknown>)[k] = "********";
  // Credentials inside server URLs (nats://user:pass@host) are secrets too.
  if (copy.url !== undefined) copy.url = copy.url.replace(/\/\/[^/@,]+@/g, "//********@");
  return copy;
}

export function registerContext(program: Command): void {
  const context = program
    .command("context")
    .alias("ctx")
    .description(`saved connection contexts (stored in ${configDir()}/contexts)`);
  examples(
    context,
    "lattice context add local --server nats://127.0.0.1:4222 --select",
    "lattice context ls",
    "lattice --context prod stream ls",
  );

  const add = context
    .command("add")
    .description("save the connection options given with it (--server, --user, --creds ...) under a name")
    .argument("<name>", "context name")
    .option("--description <text>", "what this context is for")
    .option("--monitor <url>", "HTTP monitoring endpoint, for server info/report")
    .option("--select", "make it the selected context")
    .option("--json", "print the saved context as JSON")
    .action(
      action(
        async (
          name: string,
          opts: { description?: string; monitor?: string; select?: boolean; json?: boolean },
          cmd: Command,
        ) => {
          validContextName(name);
          const existed = contextExists(name);
          const settings: ContextSettings = { ...explicitConnectionValues(cmd) };
          if (opts.description !== undefined) settings.description = opts.description;
          if (opts.monitor !== undefined) settings.monitor = opts.monitor;
          const path = saveContext(name, settings);
          if (opts.select) selectContext(name);
          if (opts.json) {
            printJson({ name, path, selected: selectedContext() === name, ...masked(settings) });
            return;
          }
          out(
            `${existed ? "Updated" : "Saved"} context "${name}" in ${path}${opts.select ? " and selected it" : ""}`,
          );
        },
      ),
    );
  examples(
    add,
    "lattice context add local --server nats://127.0.0.1:4222 --description 'dev box' --select",
    "lattice context add prod --server nats://n1:4222,nats://n2:4222 --creds ~/prod.creds --monitor http://n1:8222",
  );

  const select = context
    .command("select")
    .alias("use")
    .description("make a context the default for every command")
    .argument("<name>", "context name")
    .action(
      action(async (name: string) => {
        validContextName(name);
        selectContext(name);
        out(`Selected context "${name}"`);
      }),
    );
  examples(select, "lattice context select prod");

  const ls = context
    .command("ls")
    .alias("list")
    .description("list saved contexts; the selected one is marked with *")
    .option("--json", "print the contexts as JSON")
    .action(
      action(async (opts: { json?: boolean }) => {
        const names = listContexts();
        const selected = selectedContext();
        const rows = names.map((n) => {
          let ctx: ContextSettings = {};
          try {
            ctx = loadContext(n);
          } catch {
            ctx = { description: "(unreadable)" };
          }
          return { name: n, selected: n === selected, ...masked(ctx) };
        });
        if (opts.json) {
          printJson(rows);
          return;
        }
        if (rows.length === 0) {
          out("No contexts saved (lattice context add <name> --server ...)");
          return;
        }
        printTable(
          ["Name", "Server", "Description"],
          rows.map((r) => [
            r.selected ? color.bold(`${r.name}*`) : r.name,
            r.url ?? "(default)",
            r.description ?? "",
          ]),
          `Contexts (${rows.length})`,
        );
      }),
    );
  examples(ls, "lattice context ls", "lattice context ls --json");

  const info = context
    .command("info")
    .alias("show")
    .description("show a context's settings (secrets masked); the selected one by default")
    .argument("[name]", "context name")
    .option("--json", "print the settings as JSON")
    .action(
      action(async (name: string | undefined, opts: { json?: boolean }) => {
        const n = name ?? selectedContext();
        if (n === undefined) throw new CliError("no context selected (lattice context select <name>)");
        const ctx = masked(loadContext(n));
        if (opts.json) {
          printJson({ name: n, path: contextPath(n), selected: selectedContext() === n, ...ctx });
          return;
        }
        out(color.bold(`Context "${n}"${selectedContext() === n ? " (selected)" : ""}`));
        out();
        printSections([
          {
            rows: [
              ["Path", contextPath(n)],
              ...CONTEXT_KEYS.filter((k) => ctx[k] !== undefined).map((k): [string, string] => [
                LABELS[k],
                String(ctx[k]),
              ]),
            ],
          },
        ]);
      }),
    );
  examples(info, "lattice context info prod");

  const rm = context
    .command("rm")
    .alias("delete")
    .description("delete a saved context")
    .argument("<name>", "context name")
    .option("-f, --force", "do not ask for confirmation")
    .action(
      action(async (name: string, opts: { force?: boolean }) => {
        validContextName(name);
        if (!contextExists(name)) throw new CliError(`unknown context "${name}"`);
        await confirm(`Really delete context ${name}?`, opts.force);
        removeContext(name);
        out(`Deleted context "${name}"`);
      }),
    );
  examples(rm, "lattice context rm old -f");
}
