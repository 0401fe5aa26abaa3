// Message tracing (nats-server 2.11, ADR-41): a message published with a `Nats-Trace-Dest: <subject>`
// header is routed as usual while the server records how it came in and who it reached (clients, and
// streams that store it: "js" events), then publishes that trace (JSON, nats-server's MsgTraceEvent) to the
// destination subject in the publisher's account.
// With `Nats-Trace-Only: true` the receivers are reported but nothing is delivered. Only messages that
// carry the header take this path; finding it costs one bounded scan of a header block.

import { type HeaderBlock, headerValue, parseHeaders } from "../jetstream/headers.js";
import { rfc3339Ms } from "../jetstream/json.js";
import { isValidPublishSubject } from "../subjects/validate.js";
import type { Account } from "./account.js";
import type { ClientConnection } from "./client.js";
import type { InternalClient } from "./internal-client.js";
import { Message } from "./message.js";
import type { Router } from "./router.js";
import type { Subscription, SubscriptionOwner } from "./subscription.js";

export const TRACE_DEST = "Nats-Trace-Dest";
export const TRACE_ONLY = "Nats-Trace-Only";
const DEST_BYTES = Buffer.from(TRACE_DEST, "latin1");

/** Connection kinds as the trace events number them (nats-server's client kinds). */
const KIND_CLIENT = 0;
const KIND_SYSTEM = 3;

/** Does the header block buf[start, start + hdrLen) mention the trace destination header? */
export function hasTraceDest(buf: Uint8Array, start: number, hdrLen: number): boolean {
  const first = DEST_BYTES[0];
  const last = start + hdrLen - DEST_BYTES.length;
  for (let i = start; i <= last; i++) {
    if (buf[i] !== first) continue;
    let j = 1;
    while (j < DEST_BYTES.length && buf[i + j] === DEST_BYTES[j]) j++;
    if (j === DEST_BYTES.length) return true;
  }
  return false;
}

/** What a trace says about the server that wrote it. */
export interface TraceServer {
  readonly name: string;
  readonly id: string;
  readonly host: string;
  readonly version: string;
  readonly jetstream: boolean;
  /** An internal client of `account`, to publish its traces from. */
  clientFor(account: Account): InternalClient;
}

export class MsgTracer {
  private seq = 0;

  constructor(
    private readonly router: Router,
    private readonly server: TraceServer,
  ) {}

  /** Route a message that may be traced; returns how many receivers it reached (as Router.publish). */
  publish(
    origin: ClientConnection,
    account: Account,
    subject: string,
    reply: string | undefined,
    buf: Uint8Array,
    start: number,
    hdrLen: number,
    end: number,
  ): number {
    const h = parseHeaders(buf.subarray(start, start + hdrLen));
    const dest = headerValue(h, TRACE_DEST) ?? "";
    if (dest === "" || !isValidPublishSubject(dest)) {
      return this.router.publish(account, new Message().set(subject, reply, buf, start, hdrLen, end, origin));
    }
    const only = /^(1|true|on)$/i.test(headerValue(h, TRACE_ONLY) ?? "");
    const events: Record<string, unknown>[] = [
      {
        type: "in",
        ts: rfc3339Ms(Date.now()),
        kind: KIND_CLIENT,
        cid: origin.cid,
        name: origin.connect?.name ?? "",
        acc: account.name,
        subj: subject,
      },
    ];
    const m = new Message().set(subject, reply, buf, start, hdrLen, end, origin);
    const delivered = this.router.publish(account, m, {
      deliver: !only,
      reached: (sub) => events.push(egress(sub, subject)),
    });
    this.send(account, dest, h, end - start, events);
    return delivered;
  }

  private send(account: Account, dest: string, h: HeaderBlock, size: number, events: unknown[]): void {
    const s = this.server;
    const header: Record<string, string[]> = {};
    for (const [k, v] of h.entries) {
      const values = header[k];
      if (values === undefined) header[k] = [v];
      else values.push(v);
    }
    const trace = {
      server: {
        name: s.name,
        host: s.host,
        id: s.id,
        ver: s.version,
        jetstream: s.jetstream,
        seq: ++this.seq,
        time: rfc3339Ms(Date.now()),
      },
      request: { header, msgsize: size },
      events,
    };
    s.clientFor(account).publish(dest, undefined, Buffer.from(JSON.stringify(trace)));
  }
}

function egress(sub: Subscription, subject: string): Record<string, unknown> {
  if (sub.stream !== undefined) {
    // A stream storing the message: nats-server's JetStream event.
    return { type: "js", ts: rfc3339Ms(Date.now()), stream: sub.stream, subject };
  }
  const owner = sub.owner as SubscriptionOwner & { connect?: { name?: string }; name?: string };
  const client = owner.kind === "client";
  const e: Record<string, unknown> = {
    type: "eg",
    ts: rfc3339Ms(Date.now()),
    kind: client ? KIND_CLIENT : KIND_SYSTEM,
    cid: owner.cid,
    name: client ? (owner.connect?.name ?? "") : (owner.name ?? ""),
    sub: sub.subject,
  };
  if (sub.queue !== undefined) e.queue = sub.queue;
  return e;
}
