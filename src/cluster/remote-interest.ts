import type { Logger } from "../logger.js";
import type { Account } from "../server/account.js";
import { type LinkOwner, Subscription } from "../server/subscription.js";
import { interestKey } from "./local-interest.js";

/** A peer's queue weight is capped: it becomes that many entries in a match result. */
const MAX_QUEUE_WEIGHT = 1024;

/** The weight text of an RS+/LS+ queue subscription, as a weight (1 when absent or not a number). */
export function queueWeight(text: string | undefined): number {
  return Math.min(MAX_QUEUE_WEIGHT, Math.max(1, Number.parseInt(text ?? "1", 10) || 1));
}

/**
 * A peer's interest, kept as subscriptions of its link in the accounts' subject indexes so the router
 * forwards what matches, and keyed per account by `subject` or `subject queue`. Routes and gateways carry
 * every account; a leaf link is bound to one and always passes that one.
 *
 * The table changes before the index hears of it: an entry is recorded before it is inserted and deleted
 * before it is removed. A hub tells each leaf link, from the index's interest callbacks, what it knows minus
 * that link's own interest, read from here: recorded first, a link is not told of its own new interest;
 * deleted first, the refresh a removal triggers no longer subtracts the peer's share, and so does not
 * retract over the link interest that other subscribers still hold. (Routes and gateways do not read their
 * table from those callbacks: the order is harmless to them.)
 */
export class RemoteInterest {
  private readonly byAccount = new Map<Account, Map<string, Subscription>>();
  private total = 0;

  constructor(
    private readonly owner: LinkOwner & { describe(): string },
    private readonly logger: Logger,
  ) {}

  /** Subscriptions held, over every account. */
  get count(): number {
    return this.total;
  }

  /**
   * The peer has interest in `subject` (in a queue group with `weight` members). A queue group whose weight
   * changed gets a new subscription in place of the old one, so that cached match results see it. Returns
   * whether the index changed.
   */
  add(account: Account, subject: string, queue: string | undefined, weight = 1): boolean {
    let table = this.byAccount.get(account);
    if (table === undefined) {
      table = new Map();
      this.byAccount.set(account, table);
    }
    const key = interestKey(subject, queue);
    const existing = table.get(key);
    if (existing !== undefined) {
      if (queue === undefined || existing.weight === weight) return false;
      this.drop(account, table, key, existing);
    }
    const sub = new Subscription(subject, queue, key, this.owner);
    if (queue !== undefined) sub.weight = weight;
    table.set(key, sub);
    this.total++;
    try {
      account.addSubscription(sub);
      return true;
    } catch {
      // An invalid subject from the peer is ignored rather than trusted.
      table.delete(key);
      this.total--;
      this.logger.debug(`${this.owner.describe()} - ignoring interest in invalid subject "${subject}"`);
      return false;
    }
  }

  /** The peer no longer has that interest; false when it had none. */
  remove(account: Account, subject: string, queue: string | undefined): boolean {
    const table = this.byAccount.get(account);
    const key = interestKey(subject, queue);
    const sub = table?.get(key);
    if (sub === undefined) return false;
    this.drop(account, table!, key, sub);
    return true;
  }

  private drop(account: Account, table: Map<string, Subscription>, key: string, sub: Subscription): void {
    table.delete(key);
    this.total--;
    sub.closed = true;
    account.removeSubscription(sub);
  }

  get(account: Account, subject: string, queue: string | undefined): Subscription | undefined {
    return this.byAccount.get(account)?.get(interestKey(subject, queue));
  }

  /**
   * The link closed: nothing stale stays behind. Entries stay listed while the index hears of the removals,
   * so a closing leaf link is not told, on its way out, about interest its own share was hiding.
   */
  clear(): void {
    for (const [account, table] of this.byAccount) {
      for (const sub of table.values()) {
        sub.closed = true;
        account.removeSubscription(sub);
      }
    }
    this.byAccount.clear();
    this.total = 0;
  }

  /** One account's subscriptions (monitoring). */
  subscriptions(account: Account): Iterable<Subscription> {
    return this.byAccount.get(account)?.values() ?? [];
  }

  /** Every subscription with its account (monitoring). */
  *entries(): IterableIterator<{ account: Account; sub: Subscription }> {
    for (const [account, table] of this.byAccount) for (const sub of table.values()) yield { account, sub };
  }
}
