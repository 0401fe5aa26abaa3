// The JetStream API endpoint: one subscription per API prefix (`$JS.API.>`, and `$JS.<domain>.API.>` with a
// domain), dispatch on the subject tokens, one JSON reply with `type` first. Every failure is an ApiError
// from the shared table; anything else is logged and answered as a general error, never left hanging.
// Subjects no endpoint owns are ignored, as nats-server does (DIRECT.GET has its own responders).

import type { InternalClient, InternalMessage } from "../../server/internal-client.js";
import type { Subscription } from "../../server/subscription.js";
import { ApiError, apiError, apiErrorText } from "../api-errors.js";
import { API_LEVEL } from "../api-level.js";
import { Hdr, headerValue, mayHaveHeader, parseHeaders, statusHeaders } from "../headers.js";
import type { JsAccount } from "../js-account.js";
import { goJson } from "../json.js";
import { accountInfo } from "./account-info.js";
import {
  consumerAction,
  consumerCreate,
  consumerDelete,
  consumerInfo,
  consumerList,
  consumerNames,
  consumerPause,
  consumerPull,
  consumerUnpin,
} from "./consumers.js";
import { streamList, streamNames } from "./stream-list.js";
import { msgDelete, msgGet, streamPurge } from "./stream-msg.js";
import { streamCreate, streamDelete, streamInfoRoute, streamUpdate } from "./streams.js";
import { type ApiPayload, type ApiRequest, type ApiRoute, TYPE_PREFIX } from "./types.js";

const NO_DATA = new Uint8Array(0);

const notSupported = (type: string, feature: string): ApiRoute => ({
  type,
  handle() {
    throw apiError("NotSupported", { feature });
  },
});

const clusterOnly = (type: string): ApiRoute => ({
  type,
  handle() {
    throw apiError("ClusterRequired");
  },
});

/** Routes keyed by the subject tokens after the prefix, stream/consumer names replaced by `*`. */
const ROUTES = new Map<string, ApiRoute>([
  ["INFO", accountInfo],
  ["STREAM.CREATE.*", streamCreate],
  ["STREAM.UPDATE.*", streamUpdate],
  ["STREAM.DELETE.*", streamDelete],
  ["STREAM.INFO.*", streamInfoRoute],
  ["STREAM.NAMES", streamNames],
  ["STREAM.LIST", streamList],
  ["STREAM.PURGE.*", streamPurge],
  ["STREAM.MSG.GET.*", msgGet],
  ["STREAM.MSG.DELETE.*", msgDelete],
  ["STREAM.SNAPSHOT.*", notSupported("stream_snapshot_response", "stream snapshots")],
  ["STREAM.RESTORE.*", notSupported("stream_restore_response", "stream restores")],
  ["STREAM.LEADER.STEPDOWN.*", clusterOnly("stream_leader_stepdown_response")],
  ["STREAM.PEER.REMOVE.*", clusterOnly("stream_remove_peer_response")],
  ["CONSUMER.CREATE.*", consumerCreate],
  ["CONSUMER.CREATE.*.*", consumerCreate],
  ["CONSUMER.DURABLE.CREATE.*.*", consumerCreate],
  ["CONSUMER.INFO.*.*", consumerInfo],
  ["CONSUMER.DELETE.*.*", consumerDelete],
  ["CONSUMER.NAMES.*", consumerNames],
  ["CONSUMER.LIST.*", consumerList],
  ["CONSUMER.PAUSE.*.*", consumerPause],
  ["CONSUMER.UNPIN.*.*", consumerUnpin],
  ["CONSUMER.RESET.*.*", consumerAction("consumer_reset_response")],
  ["CONSUMER.LEADER.STEPDOWN.*.*", consumerAction("consumer_leader_stepdown_response")],
]);

const PATTERNS: [string[], ApiRoute][] = [...ROUTES].map(([k, r]) => [k.split("."), r]);

function routeFor(tokens: readonly string[]): ApiRoute | undefined {
  if (tokens[0] === "CONSUMER" && tokens[1] === "CREATE" && tokens.length > 4) {
    return consumerCreate; // CONSUMER.CREATE.<stream>.<name>.<filter...>
  }
  for (const [p, r] of PATTERNS) {
    if (p.length === tokens.length && p.every((t, i) => (t === "*" ? tokens[i] !== "" : t === tokens[i])))
      return r;
  }
  return undefined;
}

export class ApiRouter {
  private subs: Subscription[] = [];

  constructor(
    private readonly account: JsAccount,
    private readonly client: InternalClient,
    private readonly prefixes: readonly string[],
    /** Domain prefixes also map `$KV.>` / `$O.>` publishes (`$JS.<d>.API.$KV.b.k` -> `$KV.b.k`). */
    private readonly domainPrefix: string | undefined,
  ) {}

  start(): void {
    for (const p of this.prefixes) {
      this.subs.push(this.client.subscribe(`${p}.>`, (m) => this.onMessage(p, m)));
    }
  }

  stop(): void {
    for (const s of this.subs) this.client.unsubscribe(s);
    this.subs = [];
  }

  private othersListen(subject: string): boolean {
    const r = this.client.account.sublist.match(subject);
    return r.queues.length > 0 || r.plain.some((sub) => sub.owner !== this.client);
  }

  private onMessage(prefix: string, m: InternalMessage): void {
    const rest = m.subject.slice(prefix.length + 1);
    if (prefix === this.domainPrefix && (rest.startsWith("$KV.") || rest.startsWith("$O."))) {
      this.client.publish(rest, m.reply, m.data, m.headers);
      return;
    }
    const reply = m.reply;
    if (reply === undefined || reply === "") return;
    // Direct gets are answered by the stream's own responders (api/direct-get.ts). Like nats-server, whose
    // API import passes them over, a direct get nobody else answers (no such stream, or no allow_direct)
    // tells the requester "no responders" at once instead of letting it time out.
    if (rest.startsWith("DIRECT.GET.")) {
      if (!this.othersListen(m.subject))
        this.client.publish(reply, undefined, NO_DATA, statusHeaders(503, ""));
      return;
    }
    const tokens = rest.split(".");
    if (tokens[0] === "CONSUMER" && tokens[1] === "MSG" && tokens[2] === "NEXT") {
      if (consumerPull(this.account, tokens, reply, m.data)) return;
      // No consumer exists to pull from: what a client sees when nothing listens (503 no responders).
      this.client.publish(reply, undefined, NO_DATA, statusHeaders(503, ""));
      return;
    }
    const route = routeFor(tokens);
    if (route === undefined) return;
    const req: ApiRequest = {
      account: this.account,
      admin: this.account.admin,
      tokens,
      data: Uint8Array.from(m.data),
      headers: m.headers === undefined ? undefined : Uint8Array.from(m.headers),
      reply,
      subject: m.subject,
    };
    void this.run(route, req);
  }

  private async run(route: ApiRoute, req: ApiRequest): Promise<void> {
    let payload: ApiPayload;
    let failed = false;
    try {
      checkApiLevel(req.headers);
      payload = { type: TYPE_PREFIX + route.type, ...(await route.handle(req)) };
    } catch (err) {
      failed = true;
      let e: ApiError;
      if (err instanceof ApiError) {
        e = err;
      } else {
        this.account.logger.error(
          `JetStream API ${req.tokens.join(".")} failed: ${(err as Error)?.stack ?? err}`,
        );
        e = apiErrorText("StreamGeneralError", (err as Error)?.message ?? String(err));
      }
      payload = { type: TYPE_PREFIX + route.type, error: e.body, ...(route.errorExtras ?? {}) };
    }
    this.account.api.total++;
    if (failed) this.account.api.errors++;
    const json = goJson(payload);
    this.client.publish(req.reply, undefined, Buffer.from(json));
    if (route.audit) this.account.advisories.apiAudit(req.subject, req.data, json);
  }
}

function checkApiLevel(headers: Uint8Array | undefined): void {
  if (!mayHaveHeader(headers, Hdr.RequiredApiLevel)) return;
  const v = headerValue(parseHeaders(headers), Hdr.RequiredApiLevel);
  if (v === undefined || v === "") return;
  const n = Number(v);
  if (!Number.isInteger(n) || n > API_LEVEL) throw apiError("RequiredApiLevel");
}

/**
 * An account JetStream is not enabled for (while the server runs it for others): API requests are answered
 * with 10039, which clients report as "JetStream not enabled".
 */
export class DisabledAccountApi {
  private subs: Subscription[] = [];

  constructor(
    private readonly client: InternalClient,
    private readonly prefixes: readonly string[],
  ) {}

  start(): void {
    for (const p of this.prefixes) {
      this.subs.push(
        this.client.subscribe(`${p}.>`, (m) => {
          const route = routeFor(m.subject.slice(p.length + 1).split("."));
          if (route === undefined || m.reply === undefined || m.reply === "") return;
          const body = { type: TYPE_PREFIX + route.type, error: apiError("NotEnabledForAccount").body };
          this.client.publish(m.reply, undefined, Buffer.from(goJson(body)));
        }),
      );
    }
  }

  stop(): void {
    for (const s of this.subs) this.client.unsubscribe(s);
    this.subs = [];
  }
}
