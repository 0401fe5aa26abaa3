// Membership: who votes, who only learns, what a quorum is, and how one change moves from one
// configuration to the next. Changes go one node at a time so that any majority of the old voters and
// any majority of the new voters share at least one node.

import type { ClusterConfig, ConfChange, NodeId } from "./types.js";

export const EMPTY_CONFIG: ClusterConfig = { voters: [], learners: [] };

export function makeConfig(voters: readonly NodeId[], learners: readonly NodeId[] = []): ClusterConfig {
  return { voters: [...new Set(voters)].sort(), learners: [...new Set(learners)].sort() };
}

export function isVoter(config: ClusterConfig, id: NodeId): boolean {
  return config.voters.includes(id);
}

export function isLearner(config: ClusterConfig, id: NodeId): boolean {
  return config.learners.includes(id);
}

export function isMember(config: ClusterConfig, id: NodeId): boolean {
  return isVoter(config, id) || isLearner(config, id);
}

/** Every node the log is replicated to. */
export function members(config: ClusterConfig): NodeId[] {
  return [...config.voters, ...config.learners];
}

export function quorumSize(config: ClusterConfig): number {
  return Math.floor(config.voters.length / 2) + 1;
}

/** Why a change cannot apply to `config`, or undefined when it can. */
export function confChangeError(config: ClusterConfig, change: ConfChange): string | undefined {
  switch (change.type) {
    case "addLearner":
      return isMember(config, change.node) ? `${change.node} is already a member` : undefined;
    case "promote":
      return isLearner(config, change.node) ? undefined : `${change.node} is not a learner`;
    case "remove":
      if (!isMember(config, change.node)) return `${change.node} is not a member`;
      if (isVoter(config, change.node) && config.voters.length === 1) return "cannot remove the last voter";
      return undefined;
  }
}

/** The configuration after `change`. Throws when the change does not apply (see confChangeError). */
export function applyConfChange(config: ClusterConfig, change: ConfChange): ClusterConfig {
  const error = confChangeError(config, change);
  if (error !== undefined) throw new Error(`invalid membership change: ${error}`);
  const voters = config.voters.filter((id) => id !== change.node);
  const learners = config.learners.filter((id) => id !== change.node);
  if (change.type === "addLearner") learners.push(change.node);
  if (change.type === "promote") voters.push(change.node);
  return makeConfig(voters, learners);
}

/** The highest index a quorum of voters holds, given each voter's acknowledged match. */
export function quorumIndex(config: ClusterConfig, matchOf: (id: NodeId) => number): number {
  if (config.voters.length === 0) return 0;
  const matches = config.voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorumSize(config) - 1]!;
}

export type VoteOutcome = "won" | "lost" | "pending";

/** Tally granted/rejected votes from voters (answers from non-voters are ignored). */
export function voteOutcome(config: ClusterConfig, votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const id of config.voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const quorum = quorumSize(config);
  if (granted >= quorum) return "won";
  if (rejected > config.voters.length - quorum) return "lost";
  return "pending";
}
