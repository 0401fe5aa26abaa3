import { SubjectIndex } from "../subjects/subject-index.js";
import type { Subscription } from "./subscription.js";

export type InterestChange = { readonly kind: "add" | "remove"; readonly sub: Subscription };
export type InterestListener = (account: Account, change: InterestChange) => void;

/**
 * A subject space. Every subscription lives in exactly one account; nothing crosses accounts except
 * through imports and exports. Interest changes are published to listeners (routes, gateways and leaf
 * nodes propagate them; monitoring counts them).
 */
export class Account {
  readonly sublist = new SubjectIndex<Subscription>();
  private readonly listeners: InterestListener[] = [];
  /** Client connections bound to the account. */
  connections = 0;

  constructor(readonly name: string) {}

  onInterest(listener: InterestListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  addSubscription(sub: Subscription): void {
    this.sublist.insert(sub);
    if (this.listeners.length > 0) this.emit({ kind: "add", sub });
  }

  removeSubscription(sub: Subscription): void {
    if (!this.sublist.remove(sub)) return;
    if (this.listeners.length > 0) this.emit({ kind: "remove", sub });
  }

  private emit(change: InterestChange): void {
    for (const l of this.listeners.slice()) l(this, change);
  }
}

export const GLOBAL_ACCOUNT = "$G";
