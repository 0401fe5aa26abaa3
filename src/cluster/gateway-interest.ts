import { interestLine, noInterestLine } from "../protocol/link-frames.js";
import type { Account } from "../server/account.js";
import type { LinkOwner, Subscription } from "../server/subscription.js";
import type { GatewayConnection } from "./gateway.js";
import { encodeCmdPayload, GatewayCmd } from "./gateway-info.js";
import { interestKey } from "./local-interest.js";

/** A subject (and queue group) with interest somewhere in this cluster, counted by subscriptions. */
interface ClusterInterestEntry {
  readonly subject: string;
  readonly queue: string | undefined;
  n: number;
}

/**
 * Interest-only mode, the sending side: this cluster's interest per account, counted by subscription, and
 * what inbound gateway connections are told of it (INFO gateway_cmd 2, RS+..., gateway_cmd 3 per account,
 * then RS+/RS- as interest comes and goes).
 */
export class GatewayInterest {
  /** Interest anywhere in this cluster, per account: what inbound connections are told. */
  private readonly interest = new Map<Account, Map<string, ClusterInterestEntry>>();
  /** Interest gone this turn, told to peers at the end of it unless it came back (a queue weight change). */
  private readonly pendingRemovals = new Map<Account, Map<string, ClusterInterestEntry>>();
  private removalsScheduled = false;

  constructor(
    private readonly gatewayName: string,
    private readonly inbound: ReadonlySet<GatewayConnection>,
    private readonly replyOwner: LinkOwner,
  ) {}

  /** Interest of this cluster: everything but what other clusters asked for (and server-local groups). */
  counts(sub: Subscription): boolean {
    return sub.owner.kind !== "gateway" && sub.owner !== this.replyOwner && sub.queue !== "_sys_";
  }

  /** A counted subscription came or went. `live`: peers are told; else seeding the table. */
  changed(account: Account, sub: Subscription, sign: 1 | -1, live: boolean): void {
    let table = this.interest.get(account);
    if (table === undefined) {
      if (sign < 0) return;
      table = new Map();
      this.interest.set(account, table);
    }
    const key = interestKey(sub.subject, sub.queue);
    const entry = table.get(key);
    if (sign > 0) {
      if (entry !== undefined) {
        entry.n++;
        return;
      }
      const e: ClusterInterestEntry = { subject: sub.subject, queue: sub.queue, n: 1 };
      table.set(key, e);
      // Gone and back within the same turn (a route replacing a queue subscription): peers never knew.
      if (this.pendingRemovals.get(account)?.delete(key) || !live) return;
      this.tellInbound(interestLine("RS+", account.name, e.subject, e.queue, 1));
      return;
    }
    if (entry === undefined) return;
    if (--entry.n > 0) return;
    table.delete(key);
    let pending = this.pendingRemovals.get(account);
    if (pending === undefined) {
      pending = new Map();
      this.pendingRemovals.set(account, pending);
    }
    pending.set(key, entry);
    if (!this.removalsScheduled) {
      this.removalsScheduled = true;
      queueMicrotask(() => this.flushRemovals());
    }
  }

  private flushRemovals(): void {
    this.removalsScheduled = false;
    let text = "";
    for (const [account, pending] of this.pendingRemovals) {
      for (const e of pending.values()) text += noInterestLine("RS-", account.name, e.subject, e.queue);
    }
    this.pendingRemovals.clear();
    if (text !== "") this.tellInbound(text);
  }

  private tellInbound(text: string): void {
    for (const gw of this.inbound) gw.sendProto(text);
  }

  /** Interest-only mode for one account on one inbound connection: start, every RS+, complete. */
  sendAccount(gw: GatewayConnection, account: Account): void {
    const payload = encodeCmdPayload(account.name);
    const cmd = (n: number) =>
      `INFO {"gateway":${JSON.stringify(this.gatewayName)},"gateway_cmd":${n},"gateway_cmd_payload":"${payload}"}\r\n`;
    const entries = this.interest.get(account)?.values() ?? [];
    gw.sendLines([
      cmd(GatewayCmd.AllSubsStart),
      ...Array.from(entries, (e) => interestLine("RS+", account.name, e.subject, e.queue, 1)),
      cmd(GatewayCmd.AllSubsComplete),
    ]);
  }
}
