// One seeded simulation run: a cluster under a random schedule of faults and operations, with the
// safety invariants checked after every action, then a calm period in which it must make progress.
// Everything random comes from the seed, so a failing run is replayed exactly by its seed and length.

import { type ConfChange, makeConfig, type NodeId, type Raft } from "../../../src/raft/index.js";
import { ELECTION_TIMEOUT, SimCluster, type SimNode } from "./cluster.js";
import { CALM } from "./network.js";
import { Prng } from "./prng.js";

export interface SimOptions {
  readonly seed: number;
  /** Ticks of faults and operations. */
  readonly steps: number;
  /** Ticks allowed once faults stop for a leader to emerge and a new proposal to be applied by every voter. */
  readonly livenessTicks?: number;
  /** Keep the last events for the report. */
  readonly traceLength?: number;
}

export interface SimStats {
  ticks: number;
  messages: number;
  terms: number;
  committed: number;
  proposals: number;
  confChanges: number;
  promotions: number;
  transfers: number;
  transfersDone: number;
  snapshotsSent: number;
  compactions: number;
  crashes: number;
  corruptions: number;
  /** 1 when the run ended waiting for a damaged voter's repair (see calm()). */
  stalledByDamage: number;
}

export interface SimResult {
  readonly seed: number;
  readonly steps: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

export function replayCommand(seed: number, steps: number): string {
  return `node dist/scripts/raft-sim.js --from ${seed} --seeds 1 --steps ${steps} --verbose`;
}

class Scenario {
  readonly cluster: SimCluster;
  readonly ids: NodeId[];
  readonly stats: SimStats = {
    ticks: 0,
    messages: 0,
    terms: 0,
    committed: 0,
    proposals: 0,
    confChanges: 0,
    promotions: 0,
    transfers: 0,
    transfersDone: 0,
    snapshotsSent: 0,
    compactions: 0,
    crashes: 0,
    corruptions: 0,
    stalledByDamage: 0,
  };
  private proposalCounter = 0;

  constructor(
    private readonly rng: Prng,
    trace: (event: string) => void,
  ) {
    const voters = rng.chance(0.7) ? 3 : 5;
    this.ids = Array.from({ length: voters + 2 }, (_, i) => `n${i + 1}`);
    this.cluster = new SimCluster(rng.fork(), this.ids, makeConfig(this.ids.slice(0, voters)));
    this.cluster.log = (event) => trace(`t${this.cluster.now} ${event}`);
  }

  private get now(): number {
    return this.cluster.now;
  }

  private log(event: string): void {
    this.cluster.log(event);
  }

  faultStep(): void {
    this.cluster.tick();
    const rng = this.rng;
    if (rng.chance(0.008)) this.crashSomeone();
    if (rng.chance(0.006)) this.crashSomeone(this.cluster.leader()?.id);
    if (rng.chance(0.006)) this.isolateLeader();
    if (rng.chance(0.012)) this.changePartition();
    if (rng.chance(0.01)) this.changeConditions();
    this.operations();
    if (this.now % 25 === 0) this.cluster.invariants.checkLogMatching(this.rafts());
  }

  private rafts(): Raft[] {
    return this.cluster.upNodes().map((n) => n.raft!);
  }

  /** Crash a random running node, or `id` if it is running. */
  private crashSomeone(id?: NodeId): void {
    const up = this.cluster.upNodes();
    if (up.length === 0) return;
    const chosen = id === undefined ? undefined : up.find((n) => n.id === id);
    const node = chosen ?? this.rng.pick(up);
    // Damage one log at a time: with two voters of three unable to vote, no leader could ever be elected.
    const others = [...this.cluster.nodes.values()].filter((n) => n !== node);
    const nobodyElseDamaged = others.every((n) => n.up && !n.raft!.status().logDamaged);
    const corrupt = nobodyElseDamaged && this.rng.chance(0.3);
    this.stats.crashes++;
    if (corrupt) this.stats.corruptions++;
    this.cluster.crash(node, this.rng.between(3, 60), corrupt);
  }

  private changePartition(): void {
    const net = this.cluster.network;
    const ids = this.rng.shuffle([...this.ids]);
    const kind = this.rng.int(4);
    if (kind === 0) {
      net.heal();
      this.log("network healed");
    } else if (kind === 1) {
      const cut = this.rng.between(1, ids.length - 1);
      net.partition([ids.slice(0, cut), ids.slice(cut)]);
      this.log(`partition ${ids.slice(0, cut).join(",")} | ${ids.slice(cut).join(",")}`);
    } else if (kind === 2) {
      net.heal();
      for (let k = this.rng.between(1, 4); k > 0; k--) {
        const [a, b] = [this.rng.pick(ids), this.rng.pick(ids)];
        if (a !== b) net.cutLink(a, b);
      }
      this.log(`asymmetric cuts ${net.describeCuts()}`);
    } else {
      const bridge = ids[0]!;
      const cut = this.rng.between(2, ids.length - 1);
      net.partition([ids.slice(1, cut), ids.slice(cut)], [bridge]);
      this.log(`bridge ${bridge} between ${ids.slice(1, cut).join(",")} | ${ids.slice(cut).join(",")}`);
    }
  }

  /** Cut the leader off (leaders changing often is what exposes commit-rule mistakes). */
  private isolateLeader(): void {
    const leader = this.cluster.leader();
    if (!leader) return;
    this.cluster.network.partition([[leader.id], this.ids.filter((id) => id !== leader.id)]);
    this.log(`leader ${leader.id} isolated`);
  }

  private changeConditions(): void {
    const c = this.cluster.network.conditions;
    c.dropRate = this.rng.pick([0, 0, 0.02, 0.1, 0.3]);
    c.duplicateRate = this.rng.pick([0, 0.05, 0.2]);
    c.maxDelay = this.rng.pick([0, 1, 2, 5]);
    this.log(`network drop ${c.dropRate} dup ${c.duplicateRate} delay<=${c.maxDelay}`);
  }

  private operations(): void {
    const rng = this.rng;
    const leaders = this.cluster.leaders();
    if (leaders.length > 0 && rng.chance(0.4)) this.propose(rng.pick(leaders));
    if (leaders.length > 0 && rng.chance(0.03)) this.changeMembership(rng.pick(leaders));
    if (leaders.length > 0 && rng.chance(0.01)) this.transfer(rng.pick(leaders));
    if (rng.chance(0.03)) {
      const up = this.cluster.upNodes();
      if (up.length > 0) {
        const node = rng.pick(up);
        const before = node.raft!.log.snapshot.meta.index;
        this.cluster.compact(node);
        if (node.raft && node.raft.log.snapshot.meta.index !== before) this.stats.compactions++;
      }
    }
    if (rng.chance(0.003)) {
      const up = this.cluster.upNodes();
      if (up.length > 0) this.cluster.act(rng.pick(up), (r) => r.campaign());
    }
  }

  private nodeOf(raft: Raft): SimNode {
    return this.cluster.node(raft.id);
  }

  propose(leader: Raft): boolean {
    let accepted = false;
    this.cluster.act(this.nodeOf(leader), (r) => {
      accepted = r.propose(new TextEncoder().encode(`v${++this.proposalCounter}`)).ok;
    });
    if (accepted) this.stats.proposals++;
    return accepted;
  }

  private changeMembership(leader: Raft): void {
    const config = leader.status().config;
    const outsiders = this.ids.filter((id) => !config.voters.includes(id) && !config.learners.includes(id));
    const removableVoters = config.voters.length > 3 ? config.voters.filter((id) => id !== leader.id) : [];
    const options: ConfChange[] = [
      ...outsiders.map((node): ConfChange => ({ type: "addLearner", node })),
      ...config.learners.map((node): ConfChange => ({ type: "promote", node })),
      ...config.learners.map((node): ConfChange => ({ type: "remove", node })),
      ...removableVoters.map((node): ConfChange => ({ type: "remove", node })),
    ];
    if (options.length === 0) return;
    const change = this.rng.pick(options);
    this.cluster.act(this.nodeOf(leader), (r) => {
      const result = r.proposeConfChange(change);
      if (result.ok) {
        this.stats.confChanges++;
        if (change.type === "promote") this.stats.promotions++;
        this.log(`${r.id} proposes ${change.type} ${change.node} at ${result.index}`);
      }
    });
  }

  private transfer(leader: Raft): void {
    const voters = leader.status().config.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    this.cluster.act(this.nodeOf(leader), (r) => {
      if (r.transferLeadership(to).ok) {
        this.stats.transfers++;
        this.log(`${r.id} transfers leadership to ${to}`);
      }
    });
  }

  /** Faults stop: heal, restart everyone, and require a proposal applied by every voter in time. */
  calm(livenessTicks: number): string | undefined {
    const net = this.cluster.network;
    net.heal();
    net.conditions = { ...CALM };
    for (const node of this.cluster.nodes.values()) this.cluster.restart(node);
    this.log("faults stop");
    let marker: { index: number; term: number; at: number } | undefined;
    for (let t = 0; t < livenessTicks; t++) {
      this.cluster.tick();
      const leader = this.cluster.leader();
      if (!leader) continue;
      const leaderNode = this.nodeOf(leader);
      if (marker === undefined || this.now - marker.at > 3 * ELECTION_TIMEOUT) {
        this.cluster.act(leaderNode, (r) => {
          const result = r.propose(new TextEncoder().encode(`marker@${this.now}`));
          if (result.ok) marker = { index: result.index, term: result.term, at: this.now };
        });
      }
      if (marker !== undefined && this.appliedByAllVoters(leader, marker)) {
        this.cluster.invariants.checkLogMatching(this.rafts());
        return undefined;
      }
    }
    // A voter that lost acknowledged entries must not vote until a leader repairs it; if the others
    // cannot elect one without it (e.g. the rest of the voters lack committed entries), the cluster
    // waits for an operator. That is the price of not losing data, not a liveness bug: count it.
    const damaged = [...this.cluster.nodes.values()].some((n) => n.raft!.isLogDamaged);
    if (damaged && this.cluster.leader() === undefined) {
      this.stats.stalledByDamage = 1;
      this.log("stalled: no leader can be elected without the vote of a node whose log is damaged");
      return undefined;
    }
    const states = [...this.cluster.nodes.values()].map((n) => {
      const s = n.raft!.status();
      const damaged = s.logDamaged ? " damaged" : "";
      const config = `voters ${s.config.voters.join(",")} learners ${s.config.learners.join(",")}`;
      return `${n.id}:${s.role}@${s.term} last ${s.lastIndex} commit ${s.commit} applied ${n.app.index}${damaged} (${config})`;
    });
    return `liveness: nothing committed and applied everywhere within ${livenessTicks} ticks after faults stopped (${states.join("; ")})`;
  }

  private appliedByAllVoters(leader: Raft, marker: { index: number; term: number }): boolean {
    const s = leader.status();
    if (s.commit < marker.index || (leader.log.term(marker.index) ?? marker.term) !== marker.term)
      return false;
    return s.config.voters.every((id) => {
      const node = this.cluster.node(id);
      return node.up && node.app.index >= marker.index;
    });
  }

  finishStats(): void {
    this.stats.ticks = this.now;
    this.stats.messages = this.cluster.network.sent;
    this.stats.snapshotsSent = this.cluster.network.sentByType.get("snapshot") ?? 0;
    this.stats.transfersDone = this.cluster.network.sentByType.get("timeoutNow") ?? 0;
    this.stats.terms = this.cluster.invariants.maxTerm;
    this.stats.committed = this.cluster.invariants.committedCount;
  }
}

export function runSimulation(opts: SimOptions): SimResult {
  const traceLength = opts.traceLength ?? 0;
  const trace: string[] = [];
  const record = (event: string): void => {
    if (traceLength === 0) return;
    trace.push(event);
    if (trace.length > traceLength) trace.shift();
  };
  const scenario = new Scenario(new Prng(opts.seed), record);
  let error: string | undefined;
  try {
    for (let i = 0; i < opts.steps; i++) scenario.faultStep();
    error = scenario.calm(opts.livenessTicks ?? 300);
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (err instanceof Error && err.name !== "InvariantViolation" && err.stack) error = err.stack;
  }
  scenario.finishStats();
  return { seed: opts.seed, steps: opts.steps, ok: error === undefined, error, trace, stats: scenario.stats };
}
