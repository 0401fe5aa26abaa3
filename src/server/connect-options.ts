// The CONNECT JSON, with nats-server's defaults: an absent verbose/pedantic/echo means true.

export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  no_responders: boolean;
  protocol: number;
  tls_required: boolean;
  name?: string;
  lang?: string;
  version?: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
  account?: unknown;
  new_account?: unknown;
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === "boolean" ? v : dflt;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Throws on JSON that is not an object. */
export function parseConnect(json: string): ConnectOptions {
  const raw: unknown = JSON.parse(json);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new Error("CONNECT is not an object");
  const o = raw as Record<string, unknown>;
  return {
    verbose: bool(o.verbose, true),
    pedantic: bool(o.pedantic, true),
    echo: bool(o.echo, true),
    headers: bool(o.headers, false),
    no_responders: bool(o.no_responders, false),
    protocol: typeof o.protocol === "number" ? o.protocol : 0,
    tls_required: bool(o.tls_required, false),
    name: str(o.name),
    lang: str(o.lang),
    version: str(o.version),
    user: str(o.user),
    pass: str(o.pass),
    auth_token: str(o.auth_token),
    nkey: str(o.nkey),
    sig: str(o.sig),
    jwt: str(o.jwt),
    account: o.account,
    new_account: o.new_account,
  };
}
