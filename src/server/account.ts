import { type MappingConfig, SubjectMapper } from "../subjects/mapping.js";
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
  /** Subject mappings (`mappings { }`, JWT `mappings`); undefined when the account has none. */
  private mapper: SubjectMapper | undefined;

  constructor(readonly name: string) {}

  /**
   * Replace the account's subject mappings (an empty list removes them). `clusterName` tells which
   * cluster-scoped destinations apply (it is asked again as the name may change). Throws a MappingError
   * (from src/subjects/mapping.ts) for an invalid mapping, leaving the current ones in place.
   */
  setMappings(
    mappings: readonly MappingConfig[],
    clusterName?: string | (() => string | undefined) | undefined,
  ): void {
    const name = typeof clusterName === "function" ? clusterName : () => clusterName;
    this.mapper = mappings.length === 0 ? undefined : new SubjectMapper(mappings, name);
  }

  get hasMappings(): boolean {
    return this.mapper !== undefined;
  }

  /**
   * The subject a message published to `subject` goes to: `subject` itself when no mapping applies, ""
   * when a weighted mapping drops it. Applied where messages enter from clients and leaf nodes.
   */
  mapSubject(subject: string): string {
    const m = this.mapper;
    return m === undefined ? subject : m.map(subject);
  }

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
