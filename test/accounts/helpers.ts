import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { startLattice, startNatsServer } from "../helpers/servers.js";

export interface Delivery {
  who: string;
  subject: string;
  data: string;
  requestInfo?: string;
}

/** Replaces server-generated inbox and `_R_` tokens so deliveries compare across servers. */
export function normalizeSubject(s: string): string {
  return s.replace(/^_INBOX\.[^.]+\.[^.]+$/, "_INBOX.*").replace(/^_R_\..*$/, "_R_.*");
}

/** The `accounts` config as nats-server config text (JSON is a valid subset). */
export function confText(conf: Record<string, unknown>): string {
  return JSON.stringify(conf, null, 1).slice(1, -1);
}

export class Scene {
  readonly log: Delivery[] = [];
  readonly clients = new Map<string, NatsConnection>();

  constructor(readonly url: string) {}

  async client(who: string, user?: string, pass?: string): Promise<NatsConnection> {
    const nc = await connect({ servers: this.url, user, pass, reconnect: false });
    this.clients.set(who, nc);
    return nc;
  }

  record(who: string, m: Msg): void {
    const info = m.headers?.get("Nats-Request-Info");
    const d: Delivery = { who, subject: normalizeSubject(m.subject), data: m.string() };
    if (info) d.requestInfo = (JSON.parse(info) as { acc?: string }).acc;
    this.log.push(d);
  }

  listen(who: string, subject: string, queue?: string): void {
    const nc = this.clients.get(who)!;
    nc.subscribe(subject, { queue, callback: (_e, m) => this.record(who, m) });
  }

  async flush(): Promise<void> {
    for (const nc of this.clients.values()) await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    for (const nc of this.clients.values()) await nc.flush();
  }

  sorted(): string[] {
    return this.log.map((d) => JSON.stringify(d)).sort();
  }

  async close(): Promise<void> {
    for (const nc of this.clients.values()) await nc.close().catch(() => {});
  }
}

/** Runs `play` against Lattice and, when `reference` is set, the reference nats-server too. */
export async function playOn(
  conf: Record<string, unknown>,
  play: (scene: Scene) => Promise<unknown>,
  reference: boolean,
): Promise<{ ours: { log: string[]; result: unknown }; theirs?: { log: string[]; result: unknown } }> {
  const run = async (url: string, close: () => Promise<void>) => {
    const scene = new Scene(url);
    try {
      const result = await play(scene);
      await scene.flush();
      return { log: scene.sorted(), result };
    } finally {
      await scene.close();
      await close();
    }
  };
  const lattice = await startLattice(conf);
  const ours = await run(lattice.url, () => lattice.close());
  if (!reference) return { ours };
  const ref = await startNatsServer(confText(conf));
  const theirs = await run(ref.url, () => ref.close());
  return { ours, theirs };
}
