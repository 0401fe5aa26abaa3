// Imports and exports between accounts, as subscriptions: nothing here runs on the publish path of an
// account without imports.
// - A stream import is a subscription in the exporting account whose owner re-publishes each message into
//   the importing account (subject remapped by `prefix` or `to`); messages that arrived through a stream
//   import are not passed on again (imports are not transitive, as in nats-server).
// - A service import is a subscription in the importing account on the local subject; a request is
//   re-published into the exporting account with its reply subject replaced by a `_R_.` subject, which a
//   per-exporter response router maps back to the requester's reply (once for Singleton responses, until
//   the response threshold passes for Stream/Chunked ones).
import { randomBytes } from "node:crypto";
import type { AccountClaims } from "../auth/jwt-claims.js";
import { decodeActivationJwt } from "../auth/jwt-claims.js";
import type { Logger } from "../logger.js";
import { type Token, tokenText } from "../protocol/encode.js";
import type { Account } from "../server/account.js";
import { Message } from "../server/message.js";
import type { Router } from "../server/router.js";
import { Subscription, type SubscriptionOwner } from "../server/subscription.js";
import { isSubsetMatch } from "../subjects/pattern.js";
import { requestInfo } from "./client-info.js";
import { findExport } from "./config.js";
import type { Detachable, Tenant } from "./tenant.js";
import type { ExportConfig, ImportConfig, ResponseType } from "./types.js";

/**
 * Accounts a message has been forwarded into during the current (synchronous) publish. An import never
 * forwards into an account already on the chain, so import cycles end instead of looping.
 */
const chain: Account[] = [];

/** Runs `publish` with `into` on the forwarding chain; false (nothing done) when it would loop. */
function forward(from: Account, into: Account, check: boolean, publish: () => void): boolean {
  const top = chain.length === 0;
  if (top) chain.push(from);
  if (check && chain.includes(into)) {
    if (top) chain.pop();
    return false;
  }
  chain.push(into);
  try {
    publish();
  } finally {
    chain.pop();
    if (top) chain.pop();
  }
  return true;
}

/**
 * Maps a subject matched by `from` (a pattern) onto `to`: `*` and `>` in `to` take the wildcard tokens of
 * the subject in order, `$N` / `{{wildcard(N)}}` the Nth one; a literal `to` is used as is.
 */
export function transformSubject(subject: string, from: string, to: string): string {
  if (from === to) return subject;
  const f = from.split(".");
  if (!from.includes("*") && !from.includes(">")) return to;
  const s = subject.split(".");
  const values: string[] = [];
  let rest = "";
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "*") values.push(s[i]);
    else if (f[i] === ">") {
      rest = s.slice(i).join(".");
      break;
    }
  }
  let next = 0;
  const out: string[] = [];
  for (const tok of to.split(".")) {
    const ref = /^\$(\d+)$/.exec(tok) ?? /^\{\{\s*wildcard\((\d+)\)\s*\}\}$/i.exec(tok);
    if (ref) out.push(values[Number(ref[1]) - 1] ?? tok);
    else if (tok === "*") out.push(values[next++] ?? tok);
    else if (tok === ">") out.push(rest || tok);
    else out.push(tok);
  }
  return out.join(".");
}

class StreamImport implements SubscriptionOwner, Detachable {
  readonly kind = "account";
  readonly cid = 0;
  private readonly msg = new Message();
  readonly echo = true;
  private readonly sub: Subscription;

  constructor(
    private readonly router: Router,
    private readonly exporter: Account,
    private readonly importer: Account,
    private readonly imp: ImportConfig,
  ) {
    this.sub = new Subscription(imp.subject, undefined, `import:${importer.name}`, this);
    exporter.addSubscription(this.sub);
  }

  private target(subject: string): string {
    const imp = this.imp;
    if (imp.to !== undefined) subject = transformSubject(subject, imp.subject, imp.to);
    return imp.prefix !== undefined ? `${imp.prefix}.${subject}` : subject;
  }

  deliver(
    _sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin?: SubscriptionOwner,
    routed?: string,
  ): void {
    // One hop only, as in nats-server: what arrived through a stream import is not passed on by another.
    if (origin instanceof StreamImport) return;
    // A JetStream delivery is routed on its deliver subject but shows the stream subject: map the former.
    const target = this.target(routed ?? subject);
    const shown = routed === undefined ? undefined : subject;
    forward(this.exporter, this.importer, true, () => {
      const m = this.msg.set(target, reply, buf, start, hdrLen, end, this);
      m.shown = shown;
      this.router.publish(this.importer, m);
    });
  }

  subscriptionEnded(): void {}

  forwardsTo(subject: string): { account: Account; subject: string } {
    return { account: this.importer, subject: this.target(subject) };
  }

  detach(): void {
    this.sub.closed = true;
    this.exporter.removeSubscription(this.sub);
  }
}

interface PendingResponse {
  readonly importer: Account;
  readonly reply: string;
  readonly type: ResponseType;
  readonly thresholdMs: number;
  expires: number;
}

const encoder = new TextEncoder();

/** One per exporting account: a subscription on its `_R_.<prefix>.>` replies, mapped back to requesters. */
class ResponseRouter implements SubscriptionOwner {
  readonly kind = "account";
  readonly cid = 0;
  private readonly msg = new Message();
  readonly echo = true;
  readonly prefix = `_R_.${randomBytes(6).toString("base64url").replace(/[-_]/g, "x")}`;
  private readonly pending = new Map<string, PendingResponse>();
  private readonly sub: Subscription;
  private sweeper: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly router: Router,
    private readonly exporter: Account,
  ) {
    this.sub = new Subscription(`${this.prefix}.>`, undefined, "responses", this);
    exporter.addSubscription(this.sub);
  }

  get size(): number {
    return this.pending.size;
  }

  /** A fresh reply subject in the exporting account that leads back to `reply` in `importer`. */
  map(importer: Account, reply: string, e: ExportConfig): string {
    const subject = `${this.prefix}.${(this.seq++).toString(36)}${randomBytes(3).toString("hex")}`;
    const threshold = e.responseThresholdMs > 0 ? e.responseThresholdMs : 120_000;
    this.pending.set(subject, {
      importer,
      reply,
      type: e.responseType,
      thresholdMs: threshold,
      expires: Date.now() + threshold,
    });
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(1000, threshold));
      this.sweeper.unref();
    }
    return subject;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, p] of this.pending) if (p.expires <= now) this.pending.delete(k);
    if (this.pending.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  deliver(
    _sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    _origin?: SubscriptionOwner,
    routed?: string,
  ): void {
    // JetStream pull deliveries are routed on the `_R_` reply but show the stream subject, and carry the
    // ack subject as their reply (the importer acks through its `$JS.ACK` import).
    const key = routed ?? subject;
    const p = this.pending.get(key);
    if (p === undefined) return;
    if (p.type === "Singleton") this.pending.delete(key);
    else p.expires = Date.now() + p.thresholdMs;
    const shown = routed === undefined ? undefined : subject;
    const fwdReply = routed === undefined ? undefined : reply;
    // Responses never loop (each mapping is used at most once per message), so no chain check.
    forward(this.exporter, p.importer, false, () => {
      const m = this.msg.set(p.reply, fwdReply, buf, start, hdrLen, end, this);
      m.shown = shown;
      this.router.publish(p.importer, m);
    });
  }

  subscriptionEnded(): void {}

  detach(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sub.closed = true;
    this.exporter.removeSubscription(this.sub);
  }
}

/** Adds a `Nats-Request-Info` header to a message, as nats-server does for cross-account requests. */
function withRequestInfo(
  json: string,
  buf: Uint8Array,
  start: number,
  hdrLen: number,
  end: number,
): { buf: Uint8Array; hdrLen: number } {
  const line = encoder.encode(`Nats-Request-Info: ${json}\r\n`);
  const head = hdrLen > 0 ? buf.subarray(start, start + hdrLen - 2) : encoder.encode("NATS/1.0\r\n");
  const payload = buf.subarray(start + hdrLen, end);
  const out = new Uint8Array(head.length + line.length + 2 + payload.length);
  out.set(head, 0);
  out.set(line, head.length);
  out[head.length + line.length] = 0x0d;
  out[head.length + line.length + 1] = 0x0a;
  out.set(payload, head.length + line.length + 2);
  return { buf: out, hdrLen: head.length + line.length + 2 };
}

class ServiceImport implements SubscriptionOwner, Detachable {
  readonly kind = "account";
  readonly serviceImport = true;
  readonly cid = 0;
  private readonly msg = new Message();
  readonly echo = true;
  private readonly sub: Subscription;
  private readonly local: string;

  constructor(
    private readonly router: Router,
    private readonly importer: Account,
    private readonly exporter: Account,
    private readonly imp: ImportConfig,
    private readonly exp: ExportConfig,
    private readonly responses: () => ResponseRouter,
  ) {
    this.local = imp.to ?? imp.subject;
    this.sub = new Subscription(this.local, undefined, `service:${exporter.name}`, this);
    importer.addSubscription(this.sub);
  }

  deliver(
    _sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
    origin?: SubscriptionOwner,
  ): void {
    const target = transformSubject(subject, this.local, this.imp.subject);
    const mapped =
      reply === undefined ? undefined : this.responses().map(this.importer, tokenText(reply), this.exp);
    const info = requestInfo(this.importer.name, origin, this.imp.share);
    const m = withRequestInfo(info, buf, start, hdrLen, end);
    forward(this.importer, this.exporter, true, () => {
      this.router.publish(
        this.exporter,
        this.msg.set(target, mapped, m.buf, 0, m.hdrLen, m.buf.length, this),
      );
    });
  }

  subscriptionEnded(): void {}

  detach(): void {
    this.sub.closed = true;
    this.importer.removeSubscription(this.sub);
  }
}

/** Builds and rebuilds the forwarding subscriptions for accounts' imports. */
export class ImportWiring {
  private readonly responseRouters = new Map<Account, ResponseRouter>();

  constructor(
    private readonly router: Router,
    private readonly tenantOf: (name: string) => Tenant | undefined,
    private readonly log: Logger,
  ) {}

  /** (Re)installs `t`'s imports; imports of unknown accounts or unexported subjects are skipped. */
  wire(t: Tenant): void {
    // Exporters first: finding one may load it (operator mode), and loading may rewire `t` itself; that
    // nested rewiring completes before this one replaces its links, so no import is installed twice.
    const plan = t.imports.map((imp) => ({ imp, exporter: this.tenantOf(imp.account) }));
    for (const link of t.importLinks) link.detach();
    const links: Detachable[] = [];
    for (const { imp, exporter } of plan) {
      if (exporter === undefined) continue;
      const exp = findExport(exporter.exports, imp.kind, imp.subject, t.name);
      const activated =
        exp !== undefined &&
        (!exp.tokenRequired ||
          (exporter.claims !== undefined &&
            imp.token !== undefined &&
            this.activationValid(imp.token, exporter.claims, t.name, imp.subject)));
      if (!activated) {
        this.log.warn(
          `Account ${t.name}: ${imp.kind} import of "${imp.subject}" from ${imp.account} not authorized`,
        );
        continue;
      }
      if (imp.kind === "stream") {
        links.push(new StreamImport(this.router, exporter.account, t.account, imp));
      } else {
        links.push(
          new ServiceImport(this.router, t.account, exporter.account, imp, exp, () =>
            this.responseRouter(exporter.account),
          ),
        );
      }
    }
    t.importLinks = links;
  }

  private responseRouter(exporter: Account): ResponseRouter {
    let r = this.responseRouters.get(exporter);
    if (r === undefined) {
      r = new ResponseRouter(this.router, exporter);
      this.responseRouters.set(exporter, r);
    }
    return r;
  }

  /** Outstanding service responses (for tests and monitoring). */
  pendingResponses(exporter: Account): number {
    return this.responseRouters.get(exporter)?.size ?? 0;
  }

  /**
   * Is `token` an activation, issued by the exporting account (or one of its signing keys), that lets
   * `importer` import `subject`?
   */
  activationValid(token: string, exporter: AccountClaims, importer: string, subject: string): boolean {
    try {
      const a = decodeActivationJwt(token);
      if (a.subject !== importer && a.subject !== "*") return false;
      const issuerOk =
        a.issuer === exporter.subject ||
        (a.issuerAccount === exporter.subject && exporter.signingKeys.has(a.issuer));
      if (!issuerOk) return false;
      if (a.expires !== undefined && a.expires * 1000 <= Date.now()) return false;
      return isSubsetMatch(subject, a.importSubject);
    } catch {
      return false;
    }
  }

  stop(): void {
    for (const r of this.responseRouters.values()) r.detach();
    this.responseRouters.clear();
  }
}
