// JetStream advisories under `$JS.EVENT.ADVISORY.>`: stream actions (created / updated / deleted) and the
// API audit of changing requests. Clients never need them, but tools and `jsm.advisories()` listen.

import { randomBytes } from "node:crypto";
import type { InternalClient } from "../server/internal-client.js";
import { goJson, rfc3339 } from "./json.js";

const ADVISORY = "io.nats.jetstream.advisory.v1.";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A 22-character id in the NUID alphabet. */
export function eventId(): string {
  let s = "";
  for (const b of randomBytes(22)) s += BASE62[b % 62];
  return s;
}

function now(): string {
  return rfc3339(BigInt(Date.now()) * 1_000_000n);
}

export type StreamAction = "create" | "modify" | "delete";

const ACTION_TOKEN: Record<StreamAction, string> = {
  create: "CREATED",
  modify: "UPDATED",
  delete: "DELETED",
};

export class Advisories {
  constructor(
    private readonly client: InternalClient,
    private readonly serverName: string,
    private readonly account: string,
    private readonly domain: string | undefined,
  ) {}

  private send(subject: string, body: Record<string, unknown>): void {
    this.client.publish(subject, undefined, Buffer.from(goJson(body)));
  }

  streamAction(stream: string, action: StreamAction): void {
    const body: Record<string, unknown> = {
      type: `${ADVISORY}stream_action`,
      id: eventId(),
      timestamp: now(),
      stream,
      action,
    };
    if (this.domain) body.domain = this.domain;
    this.send(`$JS.EVENT.ADVISORY.STREAM.${ACTION_TOKEN[action]}.${stream}`, body);
  }

  apiAudit(subject: string, request: Uint8Array, response: string): void {
    const body: Record<string, unknown> = {
      type: `${ADVISORY}api_audit`,
      id: eventId(),
      timestamp: now(),
      server: this.serverName,
      client: { acc: this.account, server: this.serverName },
      subject,
    };
    if (request.length > 0) body.request = Buffer.from(request).toString("utf8");
    body.response = response;
    if (this.domain) body.domain = this.domain;
    this.send("$JS.EVENT.ADVISORY.API", body);
  }
}
