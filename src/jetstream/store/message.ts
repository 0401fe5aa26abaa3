// The message object both stores hand out. It records where the bytes lie; the header and payload views,
// and the BigInt nanosecond timestamp, are made only when something asks for them: the delivery path
// routes buf[start, end) as it is and formats the time from `time` and `subNs`, plain numbers.

import { joinNs } from "./clock.js";
import type { StoredMessage } from "./types.js";

export class Message implements StoredMessage {
  constructor(
    readonly seq: number,
    readonly subject: string,
    readonly time: number,
    readonly subNs: number,
    readonly buf: Uint8Array,
    readonly start: number,
    readonly hdrLen: number,
    readonly end: number,
    readonly ttlMs: number | undefined,
  ) {}

  get headers(): Uint8Array | undefined {
    if (this.hdrLen === 0) return undefined;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.start, this.hdrLen);
  }

  get data(): Uint8Array {
    const at = this.start + this.hdrLen;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + at, this.end - at);
  }

  get timeNs(): bigint {
    return joinNs(this.time, this.subNs);
  }
}
