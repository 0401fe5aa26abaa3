// Lattice's dead-letter option (off unless a consumer sets `dead_letter_subject`): a message that used up
// `max_deliver` or was terminated (+TERM) is republished to that subject, where a stream can capture it.
// Its headers and payload are kept; headers that would change how a stream stores it (dedupe id,
// expectations, rollup, TTL) are dropped, and these are added:
//   Nats-Dead-Letter-Stream, -Consumer, -Subject (original subject), -Sequence (stream sequence),
//   -Deliveries (deliveries made), -Reason (`max_deliveries` or `terminated`), -Term-Reason (+TERM text).

import type { InternalClient } from "../../server/internal-client.js";
import { appendHeaders, buildHeaders, parseHeaders } from "../headers.js";
import type { StoredMessage } from "../store/index.js";

export const DeadLetterHdr = {
  Stream: "Nats-Dead-Letter-Stream",
  Consumer: "Nats-Dead-Letter-Consumer",
  Subject: "Nats-Dead-Letter-Subject",
  Sequence: "Nats-Dead-Letter-Sequence",
  Deliveries: "Nats-Dead-Letter-Deliveries",
  Reason: "Nats-Dead-Letter-Reason",
  TermReason: "Nats-Dead-Letter-Term-Reason",
} as const;

const DROPPED = /^(nats-msg-id|nats-expected-.*|nats-rollup|nats-ttl)$/i;

export function deadLetter(
  client: InternalClient,
  subject: string,
  stream: string,
  consumer: string,
  msg: StoredMessage,
  deliveries: number,
  reason: "max_deliveries" | "terminated",
  termReason?: string,
): void {
  let base: Uint8Array | undefined = msg.headers;
  if (base !== undefined && base.length > 0) {
    const h = parseHeaders(base);
    const kept = h.entries.filter(([k]) => !DROPPED.test(k));
    if (kept.length !== h.entries.length) base = buildHeaders(kept);
  }
  const add: [string, string][] = [
    [DeadLetterHdr.Stream, stream],
    [DeadLetterHdr.Consumer, consumer],
    [DeadLetterHdr.Subject, msg.subject],
    [DeadLetterHdr.Sequence, String(msg.seq)],
    [DeadLetterHdr.Deliveries, String(deliveries)],
    [DeadLetterHdr.Reason, reason],
  ];
  if (termReason !== undefined && termReason !== "") add.push([DeadLetterHdr.TermReason, termReason]);
  client.publish(subject, undefined, Buffer.from(msg.data), appendHeaders(base, add));
}
