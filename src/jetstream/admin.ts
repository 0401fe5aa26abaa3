// The changes the JetStream API makes to an account's streams and consumers, behind one interface. The API
// handlers parse and validate a request, then ask the admin; they never mutate a stream or consumer set
// themselves. On one server the admin applies each change at once (LocalAdmin). A clustered account puts
// another admin in its place that proposes the change to the meta or stream group and answers once the
// group has applied it, without the handlers changing.

import { apiError } from "./api-errors.js";
import type { ConsumerAction, ConsumerConfig } from "./consumer/config.js";
import type { Consumer } from "./consumer/consumer.js";
import { consumersOf } from "./consumer/consumer-set.js";
import type { JsAccount } from "./js-account.js";
import type { PurgeRequest, Stream } from "./stream.js";

/** A value now, or later once a replicated group has applied the change. */
export type Settles<T> = T | Promise<T>;

export interface JetStreamAdmin {
  createStream(body: Record<string, unknown>): Settles<{ stream: Stream; created: boolean }>;
  updateStream(name: string, body: Record<string, unknown>): Settles<Stream>;
  deleteStream(name: string): Settles<void>;
  /** Returns the number of messages purged. */
  purgeStream(stream: Stream, request: PurgeRequest): Settles<number>;
  deleteMessage(stream: Stream, seq: number, erase: boolean): Settles<void>;
  createConsumer(
    stream: Stream,
    config: ConsumerConfig,
    action: ConsumerAction,
    pedantic: boolean,
  ): Settles<{ consumer: Consumer; created: boolean }>;
  /** False when the stream has no such consumer. */
  deleteConsumer(stream: Stream, name: string): Settles<boolean>;
  /** Pause until `until` (ns since the epoch; 0 resumes). */
  pauseConsumer(stream: Stream, consumer: Consumer, until: bigint): Settles<void>;
}

/** One server's admin: every change is checked and applied here and now. */
export class LocalAdmin implements JetStreamAdmin {
  constructor(private readonly account: JsAccount) {}

  createStream(body: Record<string, unknown>): Promise<{ stream: Stream; created: boolean }> {
    return this.account.create(body);
  }

  updateStream(name: string, body: Record<string, unknown>): Promise<Stream> {
    return this.account.update(name, body);
  }

  deleteStream(name: string): Promise<void> {
    return this.account.delete(name);
  }

  purgeStream(stream: Stream, request: PurgeRequest): number {
    return stream.purge(request);
  }

  deleteMessage(stream: Stream, seq: number, erase: boolean): void {
    stream.deleteMessage(seq, erase);
  }

  createConsumer(
    stream: Stream,
    config: ConsumerConfig,
    action: ConsumerAction,
    pedantic: boolean,
  ): { consumer: Consumer; created: boolean } {
    const set = consumersOf(stream);
    if (set === undefined) throw apiError("StreamNotFound");
    return set.create(config, action, pedantic);
  }

  deleteConsumer(stream: Stream, name: string): boolean {
    return consumersOf(stream)?.delete(name) ?? false;
  }

  pauseConsumer(_stream: Stream, consumer: Consumer, until: bigint): void {
    consumer.pause(until);
    try {
      consumer.store.updateConfig(consumer.created, consumer.config);
    } catch {
      // The pause still applies; it is lost on restart.
    }
  }
}
