import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedOptions, type RunningServer, startServer } from "../../src/index.js";

/** A server under test: Lattice embedded in this process, or a reference nats-server child process. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startLattice(opts: EmbeddedOptions = {}): Promise<RunningServer> {
  return startServer(opts);
}

let natsServerAvailable: boolean | undefined;

/** Is Debian's nats-server (the reference) installed? */
export function hasNatsServer(): boolean {
  if (natsServerAvailable === undefined) {
    try {
      execFileSync("nats-server", ["--version"], { stdio: "ignore" });
      natsServerAvailable = true;
    } catch {
      natsServerAvailable = false;
    }
  }
  return natsServerAvailable;
}

/** Start the reference nats-server with a config-file text (ports picked by it, read from its ports file). */
export async function startNatsServer(conf = ""): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "ref-nats-"));
  const confPath = join(dir, "server.conf");
  writeFileSync(confPath, `listen: "127.0.0.1:-1"\nports_file_dir: "${dir}"\n${conf}\n`);
  const child: ChildProcess = spawn("nats-server", ["-c", confPath], { stdio: "ignore" });
  const portsFile = join(dir, `nats-server_${child.pid}.ports`);
  const deadline = Date.now() + 10_000;
  let url = "";
  while (Date.now() < deadline) {
    try {
      const ports = JSON.parse(readFileSync(portsFile, "utf8")) as { nats: string[] };
      url = ports.nats[0];
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (url === "") {
    child.kill("SIGKILL");
    throw new Error("reference nats-server did not start");
  }
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    close: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw TCP session: write protocol text, collect what the server answers. */
export class RawClient {
  private readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  closed = false;
  private readonly waiters: Array<() => void> = [];

  private constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("data", (d) => {
      this.received = Buffer.concat([this.received, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const c = new RawClient(port);
    await new Promise<void>((resolve, reject) => {
      c.socket.once("connect", () => resolve());
      c.socket.once("error", reject);
    });
    await c.waitFor((s) => s.includes("\r\n"), 2000);
    return c;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  text(): string {
    return this.received.toString("utf8");
  }

  /** Wait until `pred(text)` holds or the time runs out; returns the text either way. */
  async waitFor(pred: (text: string) => boolean, timeoutMs = 1000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.text()) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.text();
  }

  /** Wait for the server to close the connection, or a quiet period. */
  async settle(quietMs = 300): Promise<string> {
    let last = -1;
    while (!this.closed && last !== this.received.length) {
      last = this.received.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    return this.text();
  }

  close(): void {
    this.socket.destroy();
  }
}
