import type { Account } from "../server/account.js";
import type { LinkOwner, Subscription } from "../server/subscription.js";

/** One subject (and queue group) this server has interest in, with how many subscriptions stand behind it. */
export interface InterestEntry {
  readonly subject: string;
  readonly queue: string | undefined;
  /** Plain: subscriptions; queue: members (the weight told to peers). */
  count: number;
}

/** How interest tables key a subject and queue group: `subject`, or `subject queue`. */
export function interestKey(subject: string, queue: string | undefined): string {
  return queue === undefined ? subject : `${subject} ${queue}`;
}

/** What a change means for peers: first interest, a new queue weight, or the last one gone. */
export type InterestDelta =
  | { readonly op: "add"; readonly entry: InterestEntry }
  | { readonly op: "remove"; readonly entry: InterestEntry };

/**
 * This server's own interest per account, counted so that peers hear of a subject once (RS+ on the first
 * subscription, RS- after the last) and of a queue group's weight whenever it changes. Interest that stands
 * for another server (a route or gateway, or the hub we are a spoke of) is not ours to announce.
 */
export class LocalInterest {
  private readonly byAccount = new Map<Account, Map<string, InterestEntry>>();

  /** `counts` decides which subscriptions the table follows (by default: this server's own interest). */
  constructor(private readonly counts: (sub: Subscription) => boolean = LocalInterest.counts) {}

  /** Whether peers should hear about this subscription at all. */
  static counts(sub: Subscription): boolean {
    const k = sub.owner.kind;
    if (k === "route" || k === "gateway") return false;
    if (k === "leaf") return !(sub.owner as LinkOwner).spoke;
    // `_sys_`-style internal queue groups are server-local (JetStream direct gets).
    return sub.queue !== "_sys_";
  }

  /** Apply a subscription added (+1) or removed (-1); returns what peers must be told, if anything. */
  change(account: Account, sub: Subscription, sign: 1 | -1): InterestDelta | undefined {
    if (!this.counts(sub)) return undefined;
    let table = this.byAccount.get(account);
    if (table === undefined) {
      if (sign < 0) return undefined;
      table = new Map();
      this.byAccount.set(account, table);
    }
    const key = interestKey(sub.subject, sub.queue);
    const w = sub.queue === undefined ? 1 : sub.weight;
    let entry = table.get(key);
    if (sign > 0) {
      if (entry === undefined) {
        entry = { subject: sub.subject, queue: sub.queue, count: w };
        table.set(key, entry);
        return { op: "add", entry };
      }
      entry.count += w;
      return sub.queue === undefined ? undefined : { op: "add", entry };
    }
    if (entry === undefined) return undefined;
    entry.count -= w;
    if (entry.count > 0) return sub.queue === undefined ? undefined : { op: "add", entry };
    table.delete(key);
    return { op: "remove", entry };
  }

  /** The entry for a subject (and queue group), if any interest stands behind it. */
  get(account: Account, subject: string, queue: string | undefined): InterestEntry | undefined {
    return this.byAccount.get(account)?.get(interestKey(subject, queue));
  }

  /** Everything currently announced for an account (sent in full to a new peer). */
  entries(account: Account): Iterable<InterestEntry> {
    return this.byAccount.get(account)?.values() ?? [];
  }

  /** Accounts with any interest. */
  accounts(): Iterable<Account> {
    return this.byAccount.keys();
  }

  /** Rebuild from the accounts' current subscriptions (at start, before any peer connects). */
  seed(account: Account): void {
    for (const sub of account.sublist.subscriptions()) this.change(account, sub, 1);
  }
}
