// What an API handler gets and returns.

import type { JetStreamAdmin } from "../admin.js";
import type { JsAccount } from "../js-account.js";

export interface ApiRequest {
  readonly account: JsAccount;
  /** Every change a request makes goes through here (applied at once, or proposed when clustered). */
  readonly admin: JetStreamAdmin;
  /** Subject tokens after the API prefix, e.g. ["STREAM", "CREATE", "ORDERS"]. */
  readonly tokens: readonly string[];
  /** The request body (a private copy). */
  readonly data: Uint8Array;
  readonly headers: Uint8Array | undefined;
  readonly reply: string;
  /** The full request subject. */
  readonly subject: string;
}

/** A JSON answer without its `type` (the router adds it first). */
export type ApiPayload = Record<string, unknown>;

export interface ApiRoute {
  /** Response type suffix: `stream_create_response` -> `io.nats.jetstream.api.v1.stream_create_response`. */
  readonly type: string;
  /** Fields an error response carries after `error` (nats-server leaves zero values there). */
  readonly errorExtras?: ApiPayload;
  /** Changing requests are reported on `$JS.EVENT.ADVISORY.API`. */
  readonly audit?: boolean;
  handle(req: ApiRequest): ApiPayload | Promise<ApiPayload>;
}

export const TYPE_PREFIX = "io.nats.jetstream.api.v1.";
