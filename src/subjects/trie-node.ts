// One level of the subject trie. A node stands for the subject formed by the tokens on the path from the
// root; subscriptions live on the node of their last token. Containers are allocated lazily because most
// nodes are interior (no subscriptions) or leaves (no children), and a busy server holds many of them.

import type { MatchResult } from "./subject-index.js";

export class TrieNode<S> {
  /** Children for literal tokens. Never holds "*" or ">": those go to `pwc` / `fwc`. */
  literals: Map<string, TrieNode<S>> | undefined = undefined;
  /** Child for a `*` token. */
  pwc: TrieNode<S> | undefined = undefined;
  /** Child for a trailing `>` token; always a leaf since `>` must be last. */
  fwc: TrieNode<S> | undefined = undefined;
  /** Non-queue subscriptions ending here. A Set so removal by identity is O(1) even with huge fan-in. */
  plain: Set<S> | undefined = undefined;
  /** Queue subscriptions ending here, by queue name. */
  queues: Map<string, Set<S>> | undefined = undefined;
  /**
   * The match result of this node's subscriptions alone, built on first use and dropped when they change:
   * most matches reach one node (an inbox, a literal subject), and uncached ones then allocate nothing.
   */
  ownMatch: MatchResult<S> | undefined = undefined;

  constructor(
    readonly parent: TrieNode<S> | undefined,
    readonly token: string,
  ) {}

  /** The existing child for a subscription token (wildcards map to their dedicated slots). */
  child(token: string): TrieNode<S> | undefined {
    if (token === "*") return this.pwc;
    if (token === ">") return this.fwc;
    return this.literals?.get(token);
  }

  childOrCreate(token: string): TrieNode<S> {
    if (token === "*") {
      this.pwc ??= new TrieNode(this, token);
      return this.pwc;
    }
    if (token === ">") {
      this.fwc ??= new TrieNode(this, token);
      return this.fwc;
    }
    this.literals ??= new Map();
    let node = this.literals.get(token);
    if (node === undefined) {
      node = new TrieNode(this, token);
      this.literals.set(token, node);
    }
    return node;
  }

  /** Detach a child that became empty. Identity checks first: a literal child is never named "*" / ">". */
  removeChild(child: TrieNode<S>): void {
    if (child === this.pwc) this.pwc = undefined;
    else if (child === this.fwc) this.fwc = undefined;
    else if (this.literals !== undefined && this.literals.get(child.token) === child) {
      this.literals.delete(child.token);
      if (this.literals.size === 0) this.literals = undefined;
    }
  }

  addSub(sub: S, queue: string | undefined): void {
    this.ownMatch = undefined;
    if (queue === undefined) {
      this.plain ??= new Set();
      this.plain.add(sub);
      return;
    }
    this.queues ??= new Map();
    let members = this.queues.get(queue);
    if (members === undefined) {
      members = new Set();
      this.queues.set(queue, members);
    }
    members.add(sub);
  }

  /** Remove by identity; drops emptied containers so `isEmpty` stays exact. */
  removeSub(sub: S, queue: string | undefined): boolean {
    this.ownMatch = undefined;
    if (queue === undefined) {
      if (this.plain === undefined || !this.plain.delete(sub)) return false;
      if (this.plain.size === 0) this.plain = undefined;
      return true;
    }
    const members = this.queues?.get(queue);
    if (members === undefined || !members.delete(sub)) return false;
    if (members.size === 0) {
      this.queues!.delete(queue);
      if (this.queues!.size === 0) this.queues = undefined;
    }
    return true;
  }

  hasSubs(): boolean {
    return this.plain !== undefined || this.queues !== undefined;
  }

  isEmpty(): boolean {
    return (
      this.plain === undefined &&
      this.queues === undefined &&
      this.literals === undefined &&
      this.pwc === undefined &&
      this.fwc === undefined
    );
  }
}
