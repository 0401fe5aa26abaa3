// Connection options shared by every `lattice` command (-s/--server, --user/--password, --token, --nkey, --creds,
// TLS files, --timeout, --js-domain, --context), their resolution (flag > environment > context > default), and
// a session that owns the connection and its JetStream/KV/object-store handles for one command.

import { readFileSync } from "node:fs";
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { Kvm } from "@nats-io/kv";
import type { Objm } from "@nats-io/obj";
import {
  type Authenticator,
  AuthorizationError,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
} from "@nats-io/transport-node";
import { Command, Option } from "commander";
import { type ContextSettings, loadContext, selectedContext } from "./contexts.js";
import { CliError, describeError, Exit } from "./errors.js";
import { note } from "./output.js";
import { parseDuration } from "./parse.js";

export const DEFAULT_URL = "nats://127.0.0.1:4222";
const DEFAULT_TIMEOUT = "5s";

/** Adds the connection options to the program; commander recognises them before or after any subcommand. */
export function addConnectionOptions(program: Command): Command {
  return program
    .addOption(new Option("-s, --server <urls>", "server URL(s), comma separated").env("NATS_URL"))
    .addOption(new Option("--user <user>", "user name").env("NATS_USER"))
    .addOption(new Option("--password <password>", "password").env("NATS_PASSWORD"))
    .addOption(new Option("--token <token>", "authentication token").env("NATS_TOKEN"))
    .addOption(new Option("--nkey <file>", "file holding a user NKey seed").env("NATS_NKEY"))
    .addOption(new Option("--creds <file>", "user credentials (JWT + seed) file").env("NATS_CREDS"))
    .addOption(new Option("--tlscert <file>", "TLS client certificate file"))
    .addOption(new Option("--tlskey <file>", "TLS client private key file"))
    .addOption(new Option("--tlsca <file>", "TLS certificate authority file"))
    .addOption(new Option("--tlsfirst", "TLS handshake before the server's INFO (handshake_first servers)"))
    .addOption(
      new Option("--timeout <duration>", "connect and request timeout")
        .env("NATS_TIMEOUT")
        .default(DEFAULT_TIMEOUT),
    )
    .addOption(new Option("--js-domain <domain>", "JetStream domain to talk to"))
    .addOption(
      new Option("--context <name>", "use this saved context instead of the selected one").env(
        "LATTICE_CONTEXT",
      ),
    );
}

/** The connection options that take a value (`-s <url>`), so a command line can be scanned for its command. */
export function valueTakingGlobalOptions(): Set<string> {
  const names = new Set<string>();
  for (const o of addConnectionOptions(new Command()).options) {
    if (!o.required && !o.optional) continue;
    if (o.short) names.add(o.short);
    if (o.long) names.add(o.long);
  }
  return names;
}

export interface ResolvedConnection {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  nkey?: string;
  creds?: string;
  tlscert?: string;
  tlskey?: string;
  tlsca?: string;
  tlsfirst?: boolean;
  timeoutMs: number;
  jsDomain?: string;
  monitor?: string;
  /** The context these settings came from, if any. */
  context?: string;
}

type GlobalKey =
  | "server"
  | "user"
  | "password"
  | "token"
  | "nkey"
  | "creds"
  | "tlscert"
  | "tlskey"
  | "tlsca"
  | "tlsfirst"
  | "timeout"
  | "jsDomain";

const CONTEXT_FIELD: Record<GlobalKey, keyof ContextSettings> = {
  server: "url",
  user: "user",
  password: "password",
  token: "token",
  nkey: "nkey",
  creds: "creds",
  tlscert: "tlscert",
  tlskey: "tlskey",
  tlsca: "tlsca",
  tlsfirst: "tlsfirst",
  timeout: "timeout",
  jsDomain: "jsDomain",
};

/** Connection values given explicitly on the command line (what `context add` saves). */
export function explicitConnectionValues(cmd: Command): Partial<ContextSettings> {
  const opts = cmd.optsWithGlobals() as Record<string, unknown>;
  const out: Partial<ContextSettings> = {};
  for (const key of Object.keys(CONTEXT_FIELD) as GlobalKey[]) {
    if (cmd.getOptionValueSourceWithGlobals(key) === "cli") {
      (out as Record<string, unknown>)[CONTEXT_FIELD[key]] = opts[key];
    }
  }
  return out;
}

/** Flag, then environment, then the context (--context or the selected one), then the default. */
export function resolveConnection(cmd: Command): ResolvedConnection {
  const opts = cmd.optsWithGlobals() as Record<string, unknown>;
  const ctxName = (opts.context as string | undefined) ?? selectedContext();
  let ctx: ContextSettings = {};
  if (ctxName !== undefined) {
    try {
      ctx = loadContext(ctxName);
    } catch (err) {
      // A selected context that vanished should not block commands that name a server themselves.
      if (opts.context !== undefined) throw err;
      ctx = {};
    }
  }
  const pick = <T>(key: GlobalKey): T | undefined => {
    const source = cmd.getOptionValueSourceWithGlobals(key);
    if (source === "cli" || source === "env") return opts[key] as T;
    const fromCtx = ctx[CONTEXT_FIELD[key]];
    if (fromCtx !== undefined && fromCtx !== "") return fromCtx as T;
    return opts[key] as T | undefined;
  };
  const url = pick<string>("server") ?? DEFAULT_URL;
  const timeoutText = pick<string>("timeout") ?? DEFAULT_TIMEOUT;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(String(timeoutText));
  } catch {
    throw new CliError(`invalid --timeout "${timeoutText}" (examples: 500ms, 5s, 1m)`, Exit.USAGE);
  }
  if (timeoutMs <= 0) throw new CliError("--timeout must be positive", Exit.USAGE);
  const { servers, user, password, token } = splitUrlCredentials(url);
  return {
    servers,
    user: pick("user") ?? user,
    password: pick("password") ?? password,
    token: pick("token") ?? token,
    nkey: pick("nkey"),
    creds: pick("creds"),
    tlscert: pick("tlscert"),
    tlskey: pick("tlskey"),
    tlsca: pick("tlsca"),
    tlsfirst: pick("tlsfirst"),
    timeoutMs,
    jsDomain: pick("jsDomain"),
    monitor: ctx.monitor,
    context: ctxName,
  };
}

/**
 * `nats://user:pass@host:4222` or `nats://token@host:4222`, as the NATS tools accept them: the credentials
 * become --user/--password or --token (flags win), and never appear in messages.
 */
export function splitUrlCredentials(urls: string): {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
} {
  const out: { servers: string[]; user?: string; password?: string; token?: string } = { servers: [] };
  for (const raw of urls.split(",")) {
    const text = raw.trim();
    if (text === "") continue;
    const at = text.lastIndexOf("@");
    if (at < 0) {
      out.servers.push(text);
      continue;
    }
    const scheme = text.match(/^[a-z]+:\/\//i)?.[0] ?? "";
    const creds = text.slice(scheme.length, at);
    const colon = creds.indexOf(":");
    if (colon >= 0) {
      out.user ??= decodeURIComponent(creds.slice(0, colon));
      out.password ??= decodeURIComponent(creds.slice(colon + 1));
    } else if (creds !== "") {
      out.token ??= decodeURIComponent(creds);
    }
    out.servers.push(scheme + text.slice(at + 1));
  }
  return out;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} file ${path}: ${(err as Error).message}`, Exit.USAGE);
  }
}

export function connectionOptions(conn: ResolvedConnection, name: string): NodeConnectionOptions {
  const opts: NodeConnectionOptions = {
    servers: conn.servers,
    name,
    timeout: conn.timeoutMs,
    maxReconnectAttempts: -1,
  };
  if (conn.user !== undefined) opts.user = conn.user;
  if (conn.password !== undefined) opts.pass = conn.password;
  if (conn.token !== undefined) opts.token = conn.token;
  const auth: Authenticator[] = [];
  if (conn.nkey !== undefined) {
    const seed = new TextDecoder().decode(readFile(conn.nkey, "nkey")).trim();
    auth.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  if (conn.creds !== undefined) auth.push(credsAuthenticator(readFile(conn.creds, "credentials")));
  if (auth.length > 0) opts.authenticator = auth.length === 1 ? auth[0] : auth;
  if (conn.tlscert || conn.tlskey || conn.tlsca || conn.tlsfirst) {
    opts.tls = {};
    if (conn.tlscert) opts.tls.certFile = conn.tlscert;
    if (conn.tlskey) opts.tls.keyFile = conn.tlskey;
    if (conn.tlsca) opts.tls.caFile = conn.tlsca;
    if (conn.tlsfirst) opts.tls.handshakeFirst = true;
  }
  return opts;
}

/** Connect, turning failures into one line ("cannot connect to ...") with the connection exit code. */
export async function connectWith(conn: ResolvedConnection, name: string): Promise<NatsConnection> {
  try {
    return await connect(connectionOptions(conn, name));
  } catch (err) {
    if (err instanceof CliError) throw err;
    const { message } = describeError(err);
    if (err instanceof AuthorizationError) {
      throw new CliError(`cannot connect to ${conn.servers.join(", ")}: ${message}`, Exit.CONNECT);
    }
    const timedOut = /timeout/i.test(message);
    throw new CliError(
      `cannot connect to ${conn.servers.join(", ")}: ${timedOut ? "timed out" : message}`,
      Exit.CONNECT,
    );
  }
}

/** One command's connection plus lazily made JetStream, KV and object-store handles. */
export class Session {
  /** Errors the server reported asynchronously (permission violations on publish or subscribe). */
  readonly asyncErrors: Error[] = [];
  private jsmPromise?: Promise<JetStreamManager>;
  private closing = false;

  constructor(
    readonly nc: NatsConnection,
    readonly conn: ResolvedConnection,
    private readonly verbose: boolean,
  ) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "error") this.asyncErrors.push(s.error);
        else if (this.verbose && !this.closing) {
          if (s.type === "disconnect") note(`disconnected from ${s.server}`);
          else if (s.type === "reconnect") note(`reconnected to ${s.server}`);
          else if (s.type === "ldm") note(`server ${s.server} entered lame duck mode`);
        }
      }
    })().catch(() => {});
  }

  jsm(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.nc, {
      timeout: this.conn.timeoutMs,
      domain: this.conn.jsDomain,
    });
    return this.jsmPromise;
  }

  async js(): Promise<JetStreamClient> {
    return (await this.jsm()).jetstream();
  }

  // KV and object store load on first use: the commands that do not need them start faster.
  async kvm(): Promise<Kvm> {
    const { Kvm } = await import("@nats-io/kv");
    return new Kvm(await this.js());
  }

  async objm(): Promise<Objm> {
    const { Objm } = await import("@nats-io/obj");
    return new Objm(await this.js());
  }

  /** Throw the first asynchronous server error (after a flush, so the server has had its say). */
  async checkAsyncErrors(): Promise<void> {
    await this.nc.flush().catch(() => {});
    // The -ERR arrives before the PONG, but its status event is dispatched asynchronously.
    await new Promise((r) => setTimeout(r, 5));
    const err = this.asyncErrors[0];
    if (err !== undefined) throw err;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
  }
}

export function commandName(cmd: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) parts.unshift(c.name());
  return parts.join(" ");
}

/** Run `fn` with a connected session; the connection is closed afterwards whatever happens. */
export async function withSession<T>(
  cmd: Command,
  fn: (s: Session) => Promise<T>,
  opts: { verbose?: boolean } = {},
): Promise<T> {
  const conn = resolveConnection(cmd);
  const nc = await connectWith(conn, commandName(cmd));
  const session = new Session(nc, conn, opts.verbose ?? false);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
