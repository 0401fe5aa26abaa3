// What /jsz, /varz and /healthz read from the engine: limits, usage, per-account and per-stream details,
// and load/store problems (a stream that could not be loaded makes /healthz unavailable; recovered damage
// is listed under `store_problems`).

import type {
  JetStreamConfigInfo,
  JetStreamMonitorSource,
  JetStreamUsage,
  JszQuery,
} from "../monitor/jsz.js";
import { consumersOf } from "./consumer/consumer-set.js";
import type { JsAccount } from "./js-account.js";
import { rfc3339 } from "./json.js";
import { configJson } from "./stream-config.js";
import { streamState } from "./stream-info.js";

export class JszSource implements JetStreamMonitorSource {
  constructor(
    private readonly info: JetStreamConfigInfo,
    private readonly accounts: () => readonly JsAccount[],
    private readonly serverName: string,
  ) {}

  config(): JetStreamConfigInfo {
    return this.info;
  }

  accountEnabled(name: string): boolean {
    return this.accounts().some((a) => a.name === name);
  }

  usage(): JetStreamUsage {
    const u: JetStreamUsage & { store_problems?: object[] } = {
      memory: 0,
      storage: 0,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api: { total: 0, errors: 0 },
      streams: 0,
      consumers: 0,
      messages: 0,
      bytes: 0,
    };
    const problems: object[] = [];
    for (const acc of this.accounts()) {
      const a = acc.usage();
      u.accounts++;
      u.memory += a.memory;
      u.storage += a.storage;
      u.streams += a.streams;
      u.consumers += a.consumers;
      u.messages += a.messages;
      u.bytes += a.bytes;
      u.api.total += acc.api.total;
      u.api.errors += acc.api.errors;
      for (const p of acc.allProblems())
        problems.push({ account: acc.name, stream: p.stream, error: p.message });
    }
    // Not a nats-server field: damage found in stored data is worth seeing without reading the log.
    if (problems.length > 0) u.store_problems = problems;
    return u;
  }

  accountDetails(q: JszQuery): object[] {
    const out: object[] = [];
    for (const acc of this.accounts()) {
      if (q.acc !== "" && q.acc !== acc.name) continue;
      const a = acc.usage();
      const d: Record<string, unknown> = {
        name: acc.name,
        id: acc.name,
        memory: a.memory,
        storage: a.storage,
        reserved_memory: 0,
        reserved_storage: 0,
        accounts: 1,
        ha_assets: 0,
        api: { total: acc.api.total, errors: acc.api.errors },
      };
      if (q.streams || q.consumers || q.config) {
        d.stream_detail = acc.streams().map((s) => {
          const sd: Record<string, unknown> = {
            name: s.name,
            created: rfc3339(s.created),
            cluster: { leader: this.serverName },
          };
          if (q.config) sd.config = configJson(s.config);
          sd.state = streamState(s).state;
          if (q.consumers) {
            const consumers = consumersOf(s)?.list() ?? [];
            sd.consumer_detail = consumers.map((c) => c.info());
          }
          const problems = acc.allProblems().filter((p) => p.stream === s.name);
          if (problems.length > 0) {
            sd.store_problems = problems.flatMap((p) =>
              p.store ? p.store.map((x) => ({ ...x })) : [{ message: p.message }],
            );
          }
          return sd;
        });
      }
      out.push(d);
    }
    return out;
  }

  healthErrors(): string[] {
    const errors: string[] = [];
    for (const acc of this.accounts()) {
      for (const p of acc.problems) {
        if (p.fatal)
          errors.push(`JetStream stream '${acc.name} > ${p.stream}' could not be loaded: ${p.message}`);
      }
    }
    return errors;
  }
}
