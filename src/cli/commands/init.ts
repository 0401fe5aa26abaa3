// lattice init: the JetStream streams and KV buckets a wasmCloud 1.x lattice uses, created the way wadm and
// the wasmCloud host create them, so a fresh server looks to an operator as a running lattice would.

import type { StreamConfig } from "@nats-io/jetstream";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { Command } from "commander";
import { action, examples } from "../command-kit.js";
import { withSession } from "../connect-options.js";
import { usageError } from "../errors.js";
import { note, out } from "../output.js";

interface InitOptions {
  lattice: string;
  layout: string;
  memory?: boolean;
  prefix?: string;
  json?: boolean;
}

/** wadm's expiry for commands and events: twice a host heartbeat plus some room. */
const EXPIRY_NS = 70 * 1_000_000_000;

/** The streams of wadm's current layout (v0.13 and later), or of wadm ≤ 0.12 (`legacy`). */
export function wadmStreams(
  layout: "current" | "legacy",
  storage: StorageType,
  prefix?: string,
): (Partial<StreamConfig> & { name: string })[] {
  const name = (n: string): string => (prefix ? `${prefix}.${n}` : n);
  const base = { storage, num_replicas: 1, max_bytes: -1, discard: DiscardPolicy.Old };
  const notify = {
    ...base,
    name: name("wadm_notify"),
    subjects: ["wadm.notify.*"],
    retention: RetentionPolicy.Interest,
    max_age: EXPIRY_NS,
  };
  const status = {
    ...base,
    name: name("wadm_status"),
    subjects: ["wadm.status.*.*"],
    retention: RetentionPolicy.Limits,
    max_age: 0,
    max_msgs_per_subject: 10,
    allow_direct: true,
  };
  const commands = {
    ...base,
    name: name("wadm_commands"),
    subjects: ["wadm.cmd.*"],
    retention: RetentionPolicy.Workqueue,
    max_age: EXPIRY_NS,
    allow_rollup_hdrs: false,
  };
  if (layout === "legacy") {
    return [
      {
        ...base,
        name: name("wadm_events"),
        subjects: ["wadm.evt.*"],
        retention: RetentionPolicy.Workqueue,
        max_age: EXPIRY_NS,
      },
      commands,
      status,
      notify,
      {
        ...base,
        name: name("wadm_mirror"),
        subjects: ["wasmbus.evt.*.>"],
        retention: RetentionPolicy.Workqueue,
        max_age: EXPIRY_NS,
      },
    ];
  }
  const events = name("wadm_events");
  const hostEvents = name("wasmbus_events");
  return [
    commands,
    {
      ...base,
      name: events,
      subjects: ["wadm.evt.*.>"],
      retention: RetentionPolicy.Limits,
      max_age: EXPIRY_NS,
    },
    status,
    notify,
    {
      ...base,
      name: hostEvents,
      subjects: ["wasmbus.evt.*.>"],
      retention: RetentionPolicy.Limits,
      max_age: EXPIRY_NS,
    },
    {
      ...base,
      name: name("wadm_event_consumer"),
      subjects: [],
      retention: RetentionPolicy.Workqueue,
      max_age: EXPIRY_NS,
      sources: [
        {
          name: hostEvents,
          subject_transforms: [{ src: "wasmbus.evt.*.>", dest: "wadm_event_consumer.evt.{{wildcard(1)}}.>" }],
        },
        {
          name: events,
          subject_transforms: [{ src: "wadm.evt.*.>", dest: "wadm_event_consumer.evt.{{wildcard(1)}}.>" }],
        },
      ],
    },
  ];
}

/** The KV buckets: hosts make LATTICEDATA_ and CONFIGDATA_ per lattice, wadm its state and manifests. */
export function latticeBuckets(lattice: string): string[] {
  return [`LATTICEDATA_${lattice}`, `CONFIGDATA_${lattice}`, "wadm_state", "wadm_manifests"];
}

export function registerInit(program: Command): void {
  const init = program
    .command("init")
    .description("create the streams and KV buckets a wasmCloud lattice uses (as wadm and the host do)")
    .option("--lattice <name>", "lattice name", "default")
    .option(
      "--layout <layout>",
      "wadm stream layout: current (wadm 0.13+) or legacy (wadm ≤ 0.12)",
      "current",
    )
    .option("--memory", "memory storage instead of file")
    .option("--prefix <prefix>", "wadm's stream_prefix, prepended to every stream name")
    .option("--json", "print what was created as JSON")
    .action(
      action(async (opts: InitOptions, cmd: Command) => {
        if (opts.layout !== "current" && opts.layout !== "legacy") {
          throw usageError(`--layout must be current or legacy, not "${opts.layout}"`);
        }
        if (!/^[^\s.*>]+$/.test(opts.lattice))
          throw usageError(`--lattice "${opts.lattice}" is not a valid lattice name`);
        const storage = opts.memory ? StorageType.Memory : StorageType.File;
        await withSession(cmd, async (s) => {
          const jsm = await s.jsm();
          const done: { kind: string; name: string; action: string }[] = [];
          for (const cfg of wadmStreams(opts.layout as "current" | "legacy", storage, opts.prefix)) {
            const existing = await jsm.streams.info(cfg.name!).catch(() => undefined);
            if (existing !== undefined) {
              done.push({ kind: "stream", name: cfg.name!, action: "exists" });
              continue;
            }
            await jsm.streams.add(cfg);
            done.push({ kind: "stream", name: cfg.name!, action: "created" });
          }
          const kvm = await s.kvm();
          for (const bucket of latticeBuckets(opts.lattice)) {
            const existed = await jsm.streams.info(`KV_${bucket}`).then(
              () => true,
              () => false,
            );
            // What async-nats' create_key_value sets (history 1, R1, direct gets, rollups, no deletes).
            await kvm.create(bucket, { history: 1, replicas: 1, storage, allow_direct: true } as never);
            done.push({ kind: "kv", name: bucket, action: existed ? "exists" : "created" });
          }
          if (opts.json) {
            out(JSON.stringify({ lattice: opts.lattice, layout: opts.layout, resources: done }, null, 2));
            return;
          }
          for (const d of done)
            out(`${d.action === "created" ? "created" : "exists "}  ${d.kind.padEnd(6)} ${d.name}`);
          note(
            `Lattice "${opts.lattice}" is ready (${opts.layout} wadm layout, ${opts.memory ? "memory" : "file"} storage)`,
          );
        });
      }),
    );
  examples(
    init,
    "lattice init",
    "lattice init --lattice prod --layout legacy",
    "lattice --js-domain edge init --memory",
  );
}
