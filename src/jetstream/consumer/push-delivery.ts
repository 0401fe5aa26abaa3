// Push consumers: interest on the deliver subject (bound or not), idle heartbeats, and flow control
// (a request in the message stream every half window; deliveries stall past the window until answered).

import { statusHeaders } from "../headers.js";
import { isPush, NS_PER_MS } from "./config.js";
import { EMPTY } from "./consumer-core.js";
import { PullRequests } from "./pull-requests.js";

/** Flow control window: starts at 1/16 of the limit and doubles with every answered request. */
export const FC_LIMIT = 32 * 1024 * 1024;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export abstract class PushDelivery extends PullRequests {
  protected abstract armDelete(delay?: number): void;
  protected abstract clearDelete(): void;

  /** Interest on the deliver subject may have changed. */
  interestChanged(): void {
    if (this.closed || !isPush(this.config)) return;
    const now = this.host.hasInterest(this.config.deliver_subject!, this.config.deliver_group);
    if (now === this.active) return;
    this.active = now;
    if (now) {
      this.clearDelete();
      this.kick();
    } else {
      this.armDelete();
    }
  }

  get pushBound(): boolean {
    return isPush(this.config) && this.active;
  }

  /** Push idle heartbeat: sent once nothing was delivered for idle_heartbeat (checked when the timer fires). */
  protected armHeartbeat(delay?: number): void {
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = undefined;
    const hb = (this.config.idle_heartbeat ?? 0) / NS_PER_MS;
    if (!isPush(this.config) || hb <= 0 || this.closed) return;
    this.hbTimer = setTimeout(() => {
      this.hbTimer = undefined;
      const idle = Date.now() - this.ldt;
      if (idle < hb) {
        this.armHeartbeat(hb - idle);
        return;
      }
      if (this.active) this.sendHeartbeat(this.config.deliver_subject!);
      this.armHeartbeat();
    }, delay ?? hb);
  }

  protected sendFlowControl(): void {
    const fc = this.fc!;
    let id = "";
    for (let i = 0; i < 4; i++) id += BASE62[Math.floor(Math.random() * 62)];
    const subject = `$JS.FC.${this.stream.name}.${this.name}.${id}`;
    fc.fcid = subject;
    fc.fcsz = fc.pbytes;
    this.host.client.publish(
      this.config.deliver_subject!,
      subject,
      EMPTY,
      statusHeaders(100, "FlowControl Request"),
    );
  }

  flowControlReply(subject: string): void {
    const fc = this.fc;
    if (fc === undefined || subject !== fc.fcid) return;
    if (fc.maxpb < FC_LIMIT) fc.maxpb = Math.min(fc.maxpb * 2, FC_LIMIT);
    fc.pbytes = Math.max(0, fc.pbytes - fc.fcsz);
    fc.fcid = "";
    fc.fcsz = 0;
    this.kick();
  }
}
