// A mirror or source whose origin is reached through another JetStream API (`external.api`, e.g. another
// domain across a leaf node): the feed creates a push consumer there, with flow control and heartbeats, and
// stores what it delivers. The origin sequence and time come from each delivery's ack subject. A gap (a
// lost delivery, a consumer gone with its server) or silence restarts the consumer from the next sequence.

import { randomBytes } from "node:crypto";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";
import { type ApiErrorBody, apiError } from "./api-errors.js";
import { appendHeaders, Hdr } from "./headers.js";
import { type Stream, storeFailure } from "./stream.js";
import type { StreamSourceConfig } from "./stream-config.js";

const HEARTBEAT_NS = 1_000_000_000;
/** No delivery nor heartbeat for this long: the consumer (or the link to it) is gone. */
const STALL_MS = 3500;
const RETRY_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where a delivery came from, read off its `$JS.ACK.…` reply subject. */
export function ackInfo(reply: string): { seq: number; dseq: number; timeNs: bigint } | undefined {
  const t = reply.split(".");
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>, or the 2.10 form with
  // <domain>.<account hash> after ACK and a random token at the end.
  let i: number;
  if (t.length === 9) i = 5;
  else if (t.length >= 11) i = 7;
  else return undefined;
  const seq = Number(t[i]);
  const dseq = Number(t[i + 1]);
  if (!Number.isSafeInteger(seq) || seq <= 0 || !Number.isSafeInteger(dseq)) return undefined;
  try {
    return { seq, dseq, timeNs: BigInt(t[i + 2]!) };
  } catch {
    return undefined;
  }
}

export interface RemoteFeedHost {
  /** The account's internal client: requests to the remote API and the delivery subscription. */
  readonly client: InternalClient;
}

export class RemoteFeed {
  private sub: Subscription | undefined;
  private consumer: string | undefined;
  private deliver = "";
  private stallTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastActive = 0;
  /** The consumer's last delivery sequence: consecutive unless a delivery was lost on the way. */
  private dseq = 0;
  private error: ApiErrorBody | undefined;
  private stopped = false;
  private starting = false;
  private readonly api: string;

  constructor(
    readonly id: string,
    private readonly cfg: StreamSourceConfig,
    private readonly target: Stream,
    private readonly mirror: boolean,
    private readonly host: RemoteFeedHost,
    /** Next origin sequence to copy (0: from the configured start). */
    public next: number,
    private readonly filters: string[] | undefined,
    private readonly mapSubject: (s: string) => string,
    private readonly progressed: () => void,
  ) {
    this.api = cfg.external!.api.replace(/\.$/, "");
  }

  start(): void {
    if (this.stopped || this.starting || this.sub !== undefined) return;
    this.starting = true;
    void this.createConsumer().finally(() => {
      this.starting = false;
    });
  }

  private async createConsumer(): Promise<void> {
    const deliver = `${this.cfg.external?.deliver || "_INBOX"}.${randomBytes(12).toString("hex")}`;
    const config: Record<string, unknown> = {
      deliver_subject: deliver,
      ack_policy: "none",
      flow_control: true,
      idle_heartbeat: HEARTBEAT_NS,
      inactive_threshold: 30 * HEARTBEAT_NS,
      mem_storage: true,
      num_replicas: 1,
      headers_only: false,
      replay_policy: "instant",
    };
    if (this.next > 0) {
      config.deliver_policy = "by_start_sequence";
      config.opt_start_seq = this.next;
    } else if (this.cfg.opt_start_seq) {
      config.deliver_policy = "by_start_sequence";
      config.opt_start_seq = this.cfg.opt_start_seq;
    } else if (this.cfg.opt_start_time) {
      config.deliver_policy = "by_start_time";
      config.opt_start_time = this.cfg.opt_start_time;
    } else {
      config.deliver_policy = "all";
    }
    if (this.filters?.length === 1) config.filter_subject = this.filters[0];
    else if (this.filters !== undefined) config.filter_subjects = this.filters;
    this.deliver = deliver;
    this.dseq = 0;
    this.sub = this.host.client.subscribe(deliver, (m) => this.received(m));
    let reply: { error?: ApiErrorBody; name?: string } | undefined;
    try {
      reply = (await this.request(`${this.api}.CONSUMER.CREATE.${this.cfg.name}`, {
        stream_name: this.cfg.name,
        config,
      })) as typeof reply;
    } catch {
      reply = undefined;
    }
    if (this.stopped) return;
    if (reply === undefined || reply.error !== undefined || reply.name === undefined) {
      this.error = reply?.error ?? apiError("StreamNotFound").body;
      this.restart();
      return;
    }
    this.consumer = reply.name;
    this.error = undefined;
    this.touch();
  }

  private received(m: InternalMessage): void {
    if (this.stopped) return;
    const reply = m.reply;
    if (m.data.length === 0 && m.headers !== undefined && isStatus(m.headers, "100")) {
      // Heartbeat or flow-control request: answer flow control, and the consumer is alive.
      if (reply !== undefined) this.host.client.publish(reply, undefined, new Uint8Array(0));
      this.touch();
      return;
    }
    const at = reply === undefined ? undefined : ackInfo(reply);
    if (at === undefined) return;
    if (at.dseq !== this.dseq + 1) {
      // A delivery went missing on the way (origin sequences may skip deleted messages; delivery
      // sequences do not): ask again from the first sequence not stored.
      this.restart(0);
      return;
    }
    this.dseq = at.dseq;
    if (this.next > 0 && at.seq < this.next) return;
    const subject = this.mapSubject(m.subject);
    try {
      if (this.mirror) {
        if (at.seq > this.target.store.state().lastSeq)
          this.target.appendSourced(subject, m.headers, m.data, { seq: at.seq, timeNs: at.timeNs });
      } else {
        const hdrs = appendHeaders(m.headers, [[Hdr.StreamSource, `${this.id} ${at.seq}`]]);
        this.target.appendSourced(subject, hdrs, m.data);
      }
    } catch (err) {
      this.error = storeFailure(err).body;
      this.restart();
      return;
    }
    this.error = undefined;
    this.next = at.seq + 1;
    this.touch();
    this.progressed();
  }

  private touch(): void {
    this.lastActive = Date.now();
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.restart(0), STALL_MS);
    this.stallTimer.unref?.();
  }

  /** Drop the consumer and start a new one from `next` (after `delayMs`). */
  private restart(delayMs = RETRY_MS): void {
    this.teardown();
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delayMs);
    this.retryTimer.unref?.();
  }

  private teardown(): void {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.sub !== undefined) this.host.client.unsubscribe(this.sub);
    this.sub = undefined;
    const name = this.consumer;
    this.consumer = undefined;
    if (name !== undefined) {
      // Best effort: an ephemeral consumer also goes away by itself once it is inactive.
      this.request(`${this.api}.CONSUMER.DELETE.${this.cfg.name}.${name}`, undefined).catch(() => {});
    }
  }

  /** One request to the remote API: a reply inbox of its own, bounded in time. */
  private request(subject: string, body: unknown): Promise<unknown> {
    const client = this.host.client;
    const inbox = `_INBOX.${randomBytes(12).toString("hex")}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.unsubscribe(sub);
        reject(new Error("timeout"));
      }, REQUEST_TIMEOUT_MS);
      const sub = client.subscribe(inbox, (m) => {
        clearTimeout(timer);
        client.unsubscribe(sub);
        try {
          resolve(JSON.parse(decoder.decode(m.data)));
        } catch (err) {
          reject(err);
        }
      });
      const n = client.publish(
        subject,
        inbox,
        body === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(body)),
      );
      if (n === 0) {
        clearTimeout(timer);
        client.unsubscribe(sub);
        reject(new Error("no responders"));
      }
    });
  }

  /** Source/mirror info fields that depend on the feed's state. */
  info(o: Record<string, unknown>): void {
    o.lag = 0;
    o.active = this.consumer !== undefined ? (Date.now() - this.lastActive) * 1_000_000 : -1;
    if (this.error) o.error = { ...this.error };
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.teardown();
  }
}

function isStatus(headers: Uint8Array, code: string): boolean {
  // "NATS/1.0 100 ..." — the status follows the version on the first line.
  const line = decoder.decode(headers.subarray(0, Math.min(headers.length, 64)));
  return line.startsWith(`NATS/1.0 ${code}`);
}
