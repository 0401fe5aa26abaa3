// Consumer advisories under `$JS.EVENT.ADVISORY.CONSUMER.>`: created/deleted, max deliveries reached, a
// message negatively acknowledged or terminated, paused, a priority group's client pinned or unpinned.
// Sent only when someone listens.

import type { InternalClient } from "../../server/internal-client.js";
import { eventId } from "../advisories.js";
import { goJson, rfc3339 } from "../json.js";

const TYPE = "io.nats.jetstream.advisory.v1.";
const PREFIX = "$JS.EVENT.ADVISORY.CONSUMER.";

export class ConsumerAdvisories {
  constructor(
    private readonly client: InternalClient,
    private readonly domain: string | undefined,
  ) {}

  private send(subject: string, type: string, fields: Record<string, unknown>): void {
    const m = this.client.account.sublist.match(subject);
    if (m.plain.length === 0 && m.queues.length === 0) return;
    const body: Record<string, unknown> = {
      type: TYPE + type,
      id: eventId(),
      timestamp: rfc3339(BigInt(Date.now()) * 1_000_000n),
      ...fields,
    };
    if (this.domain) body.domain = this.domain;
    this.client.publish(subject, undefined, Buffer.from(goJson(body)));
  }

  action(stream: string, consumer: string, action: "create" | "delete"): void {
    const token = action === "create" ? "CREATED" : "DELETED";
    this.send(`${PREFIX}${token}.${stream}.${consumer}`, "consumer_action", { stream, consumer, action });
  }

  maxDeliveries(stream: string, consumer: string, sseq: number, deliveries: number): void {
    this.send(`${PREFIX}MAX_DELIVERIES.${stream}.${consumer}`, "max_deliver", {
      stream,
      consumer,
      stream_seq: sseq,
      deliveries,
    });
  }

  nak(stream: string, consumer: string, sseq: number, dseq: number, deliveries: number): void {
    this.send(`${PREFIX}MSG_NAKED.${stream}.${consumer}`, "nak", {
      stream,
      consumer,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries,
    });
  }

  terminated(
    stream: string,
    consumer: string,
    sseq: number,
    dseq: number,
    deliveries: number,
    reason: string | undefined,
  ): void {
    const f: Record<string, unknown> = { stream, consumer, consumer_seq: dseq, stream_seq: sseq, deliveries };
    if (reason !== undefined) f.reason = reason;
    this.send(`${PREFIX}MSG_TERMINATED.${stream}.${consumer}`, "terminated", f);
  }

  pinned(stream: string, consumer: string, group: string, pinnedId: string): void {
    this.send(`${PREFIX}PINNED.${stream}.${consumer}`, "consumer_group_pinned", {
      stream,
      consumer,
      group,
      pinned_id: pinnedId,
    });
  }

  unpinned(stream: string, consumer: string, group: string, reason: "admin" | "timeout"): void {
    this.send(`${PREFIX}UNPINNED.${stream}.${consumer}`, "consumer_group_unpinned", {
      stream,
      consumer,
      group,
      reason,
    });
  }

  pause(stream: string, consumer: string, paused: boolean, pauseUntil: string): void {
    this.send(`${PREFIX}PAUSE.${stream}.${consumer}`, "consumer_pause", {
      stream,
      consumer,
      paused,
      pause_until: pauseUntil,
    });
  }
}
