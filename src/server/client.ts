import type { Permissions } from "../auth/permissions.js";
import { ResponsePermissions } from "../auth/response-permissions.js";
import {
  AuthRefusal,
  type AuthResult,
  type ClientAuthenticator,
  type ConnectCredentials,
} from "../auth/types.js";
import { type Token, tokenText } from "../protocol/encode.js";
import {
  ERR_AUTHENTICATION_TIMEOUT,
  ERR_AUTHORIZATION_VIOLATION,
  ERR_INVALID_CLIENT_PROTOCOL,
  ERR_INVALID_PUBLISH_SUBJECT,
  ERR_INVALID_SUBJECT,
  ERR_MAXIMUM_SUBSCRIPTIONS_EXCEEDED,
  ERR_NO_RESPONDERS_REQUIRES_HEADERS,
  permissionsPublish,
  permissionsPublishReply,
  permissionsSubscribe,
} from "../protocol/errors.js";
import { type ParseError, Parser, type ParserHandler } from "../protocol/parser.js";
import { isValidPublishSubject, isValidQueueName, isValidSubscribeSubject } from "../subjects/validate.js";
import { certificateUserMapper } from "../tls/cert-map.js";
import type { Account } from "./account.js";
import { CloseReason } from "./close-reason.js";
import { type ConnectOptions, parseConnect } from "./connect-options.js";
import { Connection, type ConnectionContext } from "./connection.js";
import { Message } from "./message.js";
import { writeMessage } from "./message-writer.js";
import { hasTraceDest, type MsgTracer } from "./msg-trace.js";
import type { Router } from "./router.js";
import { Subscription, type SubscriptionOwner } from "./subscription.js";
import type { Transport } from "./transport.js";

/** What a client connection needs beyond the shared pipeline. */
export interface ClientContext extends ConnectionContext {
  readonly router: Router;
  /** Routes messages that carry a trace destination header (msg-trace.ts). */
  readonly tracer?: MsgTracer;
  readonly authenticator: ClientAuthenticator | undefined;
  /** The authenticator for this transport (websocket clients may have their own); else `authenticator`. */
  authenticatorFor?(transport: Transport): ClientAuthenticator | undefined;
  /** INFO sent on accept (JSON, without the `INFO ` prefix). */
  infoJson(client: ClientConnection): string;
  accountFor(name: string | undefined): Account | undefined;
  /** Account admission once the client is identified (account limits, expiry, events); a refusal closes it. */
  admitClient?(client: ClientConnection, result: AuthResult | undefined): AuthRefusal | undefined;
}

// The no-responders status as nats-server 2.9 sends it (newer servers add a Nats-Subject header).
const NO_RESPONDERS = Buffer.from("NATS/1.0 503\r\n\r\n");

/** Reply subjects reserved for the server's own use. */
function isReservedReply(reply: string): boolean {
  return reply.startsWith("_R_.") || reply.startsWith("$JS.ACK.") || reply.startsWith("_GR_.");
}

/**
 * A client connection: the client protocol (CONNECT, PUB/HPUB, SUB/UNSUB, PING/PONG) on top of the
 * shared connection pipeline.
 */
export class ClientConnection extends Connection implements ParserHandler, SubscriptionOwner {
  readonly kind = "client";
  /** Reused for every publish (the router reads it at once). */
  private readonly msg = new Message();
  readonly parser: Parser;
  connect: ConnectOptions | undefined;
  echo = true;
  verbose = false;
  pedantic = false;
  headers = false;
  noResponders = false;
  /** Authenticated user name, for monitoring. */
  user: string | undefined;
  nonce: string | undefined;
  permissions: Permissions | undefined;
  /** Subscription limit set by account or JWT limits (-1 = unlimited); undefined = the server's. */
  maxSubscriptions: number | undefined;
  private responses: ResponsePermissions | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private countedInAccount = false;
  private readonly cctx: ClientContext;

  constructor(cid: number, transport: Transport, ctx: ClientContext) {
    super(cid, transport, ctx);
    this.cctx = ctx;
    const { maxControlLine, maxPayload } = ctx.options;
    this.parser = new Parser(this, { maxControlLine, maxPayload });
    const auth = this.authenticator;
    if (auth?.needsNonce) this.nonce = auth.makeNonce();
    if (auth?.required) {
      const timeout = auth.timeoutMs;
      this.authTimer = setTimeout(() => {
        if (!this.closed && this.connect === undefined) {
          this.close(CloseReason.AuthenticationTimeout, ERR_AUTHENTICATION_TIMEOUT);
        }
      }, timeout);
      this.authTimer.unref();
    } else {
      this.account = ctx.accountFor(undefined);
    }
    this.sendProto(`INFO ${ctx.infoJson(this)}\r\n`);
    transport.onData((chunk) => this.receive(chunk));
  }

  private get authenticator(): ClientAuthenticator | undefined {
    return this.cctx.authenticatorFor?.(this.transport) ?? this.cctx.authenticator;
  }

  /** Protocol trace (-V), in nats-server's shape: `<<- [SUB foo 1]`. */
  private traceIn(op: string, args?: string): void {
    this.ctx.logger.trace(`${this.describe()} - <<- [${args === undefined ? op : `${op} ${args}`}]`);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.touch();
    this.parser.parse(chunk);
  }

  /** Before CONNECT, a server that requires auth accepts nothing else. */
  private requireConnect(): boolean {
    if (this.account !== undefined) return true;
    this.close(CloseReason.AuthenticationViolation, ERR_AUTHORIZATION_VIOLATION);
    return false;
  }

  onConnect(json: string): void {
    if (this.ctx.logger.traceEnabled) this.traceIn("CONNECT", json);
    if (this.connect !== undefined && this.authenticator?.required) {
      // A second CONNECT may not change identity; nats-server ignores it for auth purposes.
      return;
    }
    let opts: ConnectOptions;
    try {
      opts = parseConnect(json);
    } catch {
      this.close(CloseReason.ProtocolViolation);
      return;
    }
    if (opts.protocol > 1) {
      this.close(CloseReason.BadClientProtocolVersion, ERR_INVALID_CLIENT_PROTOCOL);
      return;
    }
    if (opts.no_responders && !opts.headers) {
      this.close(CloseReason.ProtocolViolation, ERR_NO_RESPONDERS_REQUIRES_HEADERS);
      return;
    }
    if (opts.account !== undefined || opts.new_account !== undefined) {
      this.close(CloseReason.AuthenticationViolation, ERR_AUTHORIZATION_VIOLATION);
      return;
    }
    this.connect = opts;
    this.verbose = opts.verbose;
    this.pedantic = opts.pedantic;
    this.echo = opts.echo;
    this.headers = opts.headers && !this.cctx.options.noHeaderSupport;
    this.noResponders = opts.no_responders && this.headers;

    const auth = this.authenticator;
    if (auth === undefined || (!auth.required && !auth.hasNoAuthUser)) {
      this.connected();
      return;
    }
    // Authentication may be asynchronous (bcrypt): hold every later op until it is decided.
    this.parser.pause();
    const creds: ConnectCredentials = {
      user: opts.user,
      pass: opts.pass,
      auth_token: opts.auth_token,
      nkey: opts.nkey,
      sig: opts.sig,
      jwt: opts.jwt,
      tlsMap: this.certificateMapper(),
      remoteAddress: this.transport.remoteAddress,
      client: {
        id: this.cid,
        name: opts.name,
        lang: opts.lang,
        version: opts.version,
        protocol: opts.protocol,
      },
    };
    auth.authenticate(creds, this.nonce, this.connectionType()).then(
      (result) => {
        if (this.closed) return;
        if (result === undefined) {
          this.ctx.logger.info(`${this.describe()} - ${ERR_AUTHORIZATION_VIOLATION}`);
          this.close(CloseReason.AuthenticationViolation, ERR_AUTHORIZATION_VIOLATION);
          return;
        }
        const account = this.cctx.accountFor(result.account);
        if (account === undefined) {
          this.close(CloseReason.MissingAccount, ERR_AUTHORIZATION_VIOLATION);
          return;
        }
        this.account = account;
        this.user = result.user ?? result.nkey;
        this.permissions = result.permissions;
        const rp = result.permissions?.allowResponses;
        if (rp) this.responses = new ResponsePermissions(rp);
        if (!this.connected(result)) return;
        this.parser.resume();
      },
      (err: unknown) => {
        if (this.closed) return;
        if (err instanceof AuthRefusal) {
          this.close(err.reason as CloseReason, err.errText);
          return;
        }
        this.ctx.logger.error(`${this.describe()} - authentication error: ${String(err)}`);
        this.close(CloseReason.AuthenticationViolation, ERR_AUTHORIZATION_VIOLATION);
      },
    );
  }

  /**
   * After a config reload: check the stored credentials against the new rules. Clients that no longer
   * authenticate are closed; the others get their new permissions, and subscriptions those permissions no
   * longer allow are removed with the usual violation error.
   */
  async reauthorize(serverAuth: ClientAuthenticator | undefined): Promise<void> {
    if (this.closed || this.connect === undefined) return;
    const auth = this.cctx.authenticatorFor?.(this.transport) ?? serverAuth;
    if (auth === undefined || !auth.required) {
      this.permissions = undefined;
      this.responses = undefined;
    } else {
      const o = this.connect;
      const creds: ConnectCredentials = {
        user: o.user,
        pass: o.pass,
        auth_token: o.auth_token,
        nkey: o.nkey,
        sig: o.sig,
        jwt: o.jwt,
        tlsMap: this.certificateMapper(),
        remoteAddress: this.transport.remoteAddress,
      };
      const result = await auth.authenticate(creds, this.nonce, this.connectionType());
      if (this.closed) return;
      if (result === undefined) {
        this.close(CloseReason.AuthenticationViolation, ERR_AUTHORIZATION_VIOLATION);
        return;
      }
      this.permissions = result.permissions;
      const rp = result.permissions?.allowResponses;
      this.responses = rp ? new ResponsePermissions(rp) : undefined;
    }
    const perms = this.permissions;
    for (const sub of [...this.subs.values()]) {
      if (perms !== undefined && !perms.canSubscribe(sub.subject, sub.queue)) {
        this.permissionViolation(permissionsSubscribe(sub.subject, sub.queue));
        this.removeSub(sub);
      } else {
        sub.deliveryFiltered = perms?.needsDeliveryFilter(sub.subject, sub.queue) === true;
      }
    }
  }

  /** verify_and_map (client port, or websocket's own tls block): the user comes from the client certificate. */
  private certificateMapper(): ConnectCredentials["tlsMap"] {
    const o = this.cctx.options;
    const map = this.transport.kind === "websocket" ? o.websocket?.tls?.map : o.tls?.map;
    if (!map) return undefined;
    return certificateUserMapper(this.transport, (m) => this.ctx.logger.debug(`${this.describe()} - ${m}`));
  }

  private connectionType(): string {
    return this.transport.kind === "websocket" ? "WEBSOCKET" : "STANDARD";
  }

  /** The client is identified: admit it into its account. False when the account refused it (closed). */
  private connected(result?: AuthResult): boolean {
    if (this.authTimer) {
      clearTimeout(this.authTimer);
      this.authTimer = undefined;
    }
    if (this.account === undefined) this.account = this.cctx.accountFor(undefined);
    const refusal = this.cctx.admitClient?.(this, result);
    if (refusal !== undefined) {
      this.close(refusal.reason as CloseReason, refusal.errText);
      return false;
    }
    if (this.account) {
      this.account.connections++;
      this.countedInAccount = true;
    }
    if (this.verbose) this.sendProto("+OK\r\n");
    this.startPings();
    return true;
  }

  onInfo(_json: string): void {
    // Clients may send INFO; it carries nothing the server needs.
  }

  onPing(): void {
    if (this.ctx.logger.traceEnabled) this.traceIn("PING");
    if (this.account === undefined && !this.requireConnect()) return;
    this.sendProto("PONG\r\n");
  }

  onPong(): void {
    if (this.ctx.logger.traceEnabled) this.traceIn("PONG");
    this.pongReceived();
  }

  onPub(subject: string, reply: string | undefined, buf: Buffer, start: number, end: number): void {
    if (this.ctx.logger.traceEnabled) {
      this.traceIn("PUB", `${subject}${reply === undefined ? "" : ` ${reply}`} ${end - start}`);
    }
    this.processPub(subject, reply, buf, start, 0, end);
  }

  onHpub(
    subject: string,
    reply: string | undefined,
    buf: Buffer,
    start: number,
    headerSize: number,
    end: number,
  ): void {
    if (this.ctx.logger.traceEnabled) {
      this.traceIn(
        "HPUB",
        `${subject}${reply === undefined ? "" : ` ${reply}`} ${headerSize} ${end - start}`,
      );
    }
    if (!this.headers) {
      this.close(CloseReason.ProtocolViolation);
      return;
    }
    this.processPub(subject, reply, buf, start, headerSize, end);
  }

  private processPub(
    subject: string,
    reply: string | undefined,
    buf: Buffer,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    const account = this.account;
    if (account === undefined && !this.requireConnect()) return;
    const size = end - start;
    this.stats.inMsgs++;
    this.stats.inBytes += size;
    const global = this.ctx.stats;
    global.inMsgs++;
    global.inBytes += size;

    if (this.pedantic && !isValidPublishSubject(subject)) {
      this.sendProto(`-ERR '${ERR_INVALID_PUBLISH_SUBJECT}'\r\n`);
    }
    // Account subject mappings apply first: as in nats-server, permissions and delivery see the mapped
    // subject ("" when a weighted mapping drops the message, which nothing receives).
    if (account!.hasMappings) {
      const mapped = account!.mapSubject(subject);
      if (mapped !== subject && this.ctx.logger.traceEnabled)
        this.traceIn("MAPPING", `${subject} -> ${mapped}`);
      subject = mapped;
    }
    if (reply !== undefined && isReservedReply(reply)) {
      this.permissionViolation(permissionsPublishReply(reply));
      return;
    }
    const perms = this.permissions;
    if (perms !== undefined && !perms.canPublish(subject)) {
      const now = Date.now();
      if (this.responses === undefined || !this.responses.tryUse(subject, now)) {
        this.permissionViolation(permissionsPublish(subject));
        return;
      }
    }
    // nats-server acknowledges before delivering, so a verbose client sees +OK ahead of its own echo.
    if (this.verbose) this.sendProto("+OK\r\n");
    const tracer = this.cctx.tracer;
    const delivered =
      hdrLen > 0 && tracer !== undefined && hasTraceDest(buf, start, hdrLen)
        ? tracer.publish(this, account!, subject, reply, buf, start, hdrLen, end)
        : this.cctx.router.publish(account!, this.msg.set(subject, reply, buf, start, hdrLen, end, this));
    if (delivered === 0 && reply !== undefined && this.noResponders) this.sendNoResponders(reply);
  }

  /** Tell a requester nobody is listening: a 503 status on its own subscription for the reply subject. */
  private sendNoResponders(reply: string): void {
    const account = this.account!;
    const result = account.sublist.match(reply);
    for (const sub of result.plain) {
      if (sub.owner !== this) continue;
      this.deliver(sub, reply, undefined, NO_RESPONDERS, 0, NO_RESPONDERS.length, NO_RESPONDERS.length);
      return;
    }
  }

  private permissionViolation(text: string): void {
    this.ctx.logger.debug(`${this.describe()} - ${text}`);
    this.sendProto(`-ERR '${text}'\r\n`);
  }

  onSub(subject: string, queue: string | undefined, sid: string): void {
    if (this.ctx.logger.traceEnabled)
      this.traceIn("SUB", `${subject}${queue === undefined ? "" : ` ${queue}`} ${sid}`);
    const account = this.account;
    if (account === undefined && !this.requireConnect()) return;
    if (!isValidSubscribeSubject(subject) || (queue !== undefined && !isValidQueueName(queue))) {
      this.sendProto(`-ERR '${ERR_INVALID_SUBJECT}'\r\n`);
      return;
    }
    const perms = this.permissions;
    if ((perms !== undefined && !perms.canSubscribe(subject, queue)) || queue === "_sys_") {
      this.permissionViolation(permissionsSubscribe(subject, queue));
      return;
    }
    const maxSubs = this.maxSubscriptions ?? (this.cctx.options.maxSubscriptions || -1);
    if (maxSubs >= 0 && this.subs.size >= maxSubs) {
      this.sendProto(`-ERR '${ERR_MAXIMUM_SUBSCRIPTIONS_EXCEEDED}'\r\n`);
      return;
    }
    if (!this.subs.has(sid)) {
      const sub = new Subscription(subject, queue, sid, this);
      if (perms !== undefined) sub.deliveryFiltered = perms.needsDeliveryFilter(subject, queue);
      this.subs.set(sid, sub);
      account!.addSubscription(sub);
    }
    if (this.verbose) this.sendProto("+OK\r\n");
  }

  onUnsub(sid: string, max: number | undefined): void {
    if (this.ctx.logger.traceEnabled) this.traceIn("UNSUB", max === undefined ? sid : `${sid} ${max}`);
    if (this.account === undefined && !this.requireConnect()) return;
    const sub = this.subs.get(sid);
    if (sub !== undefined) {
      if (max !== undefined && max > 0 && max > sub.delivered) {
        sub.max = max;
      } else {
        this.removeSub(sub);
      }
    }
    if (this.verbose) this.sendProto("+OK\r\n");
  }

  private removeSub(sub: Subscription): void {
    sub.closed = true;
    this.subs.delete(sub.sid);
    this.account?.removeSubscription(sub);
  }

  subscriptionEnded(sub: Subscription): void {
    this.subs.delete(sub.sid);
  }

  deniesDelivery(subject: string, queue: string | undefined): boolean {
    const p = this.permissions;
    return p?.deniesDelivery(subject, queue) === true;
  }

  deliver(
    sub: Subscription,
    subject: string,
    reply: Token | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): void {
    if (this.closed) return;
    const written = writeMessage(this.out, subject, sub.sid, reply, buf, start, hdrLen, end, this.headers);
    this.stats.outMsgs++;
    this.stats.outBytes += written;
    const global = this.ctx.stats;
    global.outMsgs++;
    global.outBytes += written;
    if (reply !== undefined && this.responses !== undefined)
      this.responses.grant(tokenText(reply), Date.now());
    this.afterAppend();
  }

  onParseError(error: ParseError): void {
    const reason =
      error.kind === "max_payload"
        ? CloseReason.MaxPayloadExceeded
        : error.kind === "max_control_line"
          ? CloseReason.MaxControlLineExceeded
          : error.kind === "client_error"
            ? CloseReason.ParseError
            : CloseReason.ProtocolViolation;
    this.ctx.logger.debug(`${this.describe()} - ${error.detail}`);
    this.close(reason, error.errText);
  }

  override close(reason: CloseReason, errText?: string, flushFirst = true): void {
    if (this.closed) return;
    if (this.authTimer) clearTimeout(this.authTimer);
    // Ops later in the same read must not run on a closed connection.
    this.parser.close();
    if (this.countedInAccount && this.account) this.account.connections--;
    super.close(reason, errText, flushFirst);
  }
}
