// Stand-in "server" used to measure the load generator's own ceiling. It runs
// as a separate process pinned to the core a real server would get, and does
// far less work than any real server:
//   reflect <port>  count PUB frames between PINGs and answer each window with
//                pre-encoded MSG frames to the subscribers (fan-out or queue
//                round-robin), then PONG; with no subscribers it is a discarding sink
//   mini <port>  tiny exact-subject router (SUB/PUB/PING), plus a blast command:
//                `PUB bench.blast <n>` with payload "<count>" makes it stream <count>
//                pre-encoded MSG frames for the connection's subscription.
import net from "node:net";
import { msgFrame, pubFrame, repeatFrame } from "./raw-client.js";

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
if ((mode !== "reflect" && mode !== "mini") || !Number.isInteger(port)) {
  process.stderr.write("usage: ceiling-peer.js reflect|mini <port>\n");
  process.exit(2);
}

const info = (): Buffer =>
  Buffer.from(
    `INFO {"server_id":"bench-ceiling-peer","server_name":"ceiling-${mode}","version":"0.0.0","proto":1,` +
      `"host":"127.0.0.1","port":${port},"headers":false,"max_payload":1048576}\r\n`,
    "latin1",
  );
const PING = Buffer.from("PING\r\n", "latin1");
const PONG = Buffer.from("PONG\r\n", "latin1");

interface Reflected {
  sock: net.Socket;
  sid: string;
  queue: string | null;
  batches: Map<number, Buffer>;
}
const reflectSubs: Reflected[] = [];
const queueTurn = new Map<string, number>();
const PUB_FRAME_LEN = pubFrame("bench.sub").length;

/** Sends `n` pre-encoded MSG frames to every plain subscriber and to one member of each queue group. */
function reflectDeliver(n: number): void {
  const groups = new Map<string, Reflected[]>();
  const targets: Reflected[] = [];
  for (const s of reflectSubs) {
    if (s.queue === null) targets.push(s);
    else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s]);
  }
  for (const [q, members] of groups) {
    const turn = queueTurn.get(q) ?? 0;
    queueTurn.set(q, turn + 1);
    const m = members[turn % members.length];
    if (m) targets.push(m);
  }
  for (const t of targets) {
    let batch = t.batches.get(n);
    if (!batch) {
      batch = repeatFrame(msgFrame("bench.sub", t.sid), n);
      if (t.batches.size < 4) t.batches.set(n, batch);
    }
    t.sock.write(batch);
  }
}

/**
 * Reflector: the stream is split into segments at each PING (found with
 * indexOf, i.e. native speed). A segment of PUB frames is counted by its length
 * and answered with as many pre-encoded MSG frames per subscriber; SUB
 * segments register subscribers; every PING gets its PONG after that — the
 * same ordering a real server gives. Without subscribers it is a plain sink.
 */
function reflect(sock: net.Socket): void {
  let held: Buffer = Buffer.alloc(0); // trailing bytes that may be the start of a PING
  let segLen = 0;
  let segHead = "";
  const add = (buf: Buffer, from: number, to: number): void => {
    segLen += to - from;
    if (segHead.length < 256)
      segHead += buf.toString("latin1", from, Math.min(to, from + 256 - segHead.length));
  };
  const endSegment = (): void => {
    if (segHead.startsWith("PUB ")) {
      if (segLen % PUB_FRAME_LEN !== 0) process.stderr.write(`reflect: odd PUB segment of ${segLen} bytes\n`);
      reflectDeliver(Math.floor(segLen / PUB_FRAME_LEN));
    } else if (segHead.startsWith("SUB ")) {
      for (const line of segHead.split("\r\n")) {
        const args = line.trim().split(/\s+/);
        if (args[0] !== "SUB" || args.length < 3) continue;
        reflectSubs.push({
          sock,
          sid: args[args.length - 1] as string,
          queue: args.length === 4 ? (args[2] as string) : null,
          batches: new Map(),
        });
      }
    }
    segLen = 0;
    segHead = "";
    sock.write(PONG);
  };
  sock.on("data", (chunk: Buffer) => {
    const data = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
    // Hold back a suffix that is a proper prefix of "PING\r\n" until the next chunk.
    let keep = 0;
    for (let k = Math.min(PING.length - 1, data.length); k > 0; k--) {
      if (data.subarray(data.length - k).equals(PING.subarray(0, k))) {
        keep = k;
        break;
      }
    }
    const end = data.length - keep;
    let pos = 0;
    for (;;) {
      const i = data.indexOf(PING, pos);
      if (i < 0 || i >= end) {
        add(data, pos, end);
        break;
      }
      add(data, pos, i);
      endSegment();
      pos = i + PING.length;
    }
    held = keep > 0 ? Buffer.from(data.subarray(end)) : Buffer.alloc(0);
  });
  sock.on("close", () => {
    for (let i = reflectSubs.length - 1; i >= 0; i--)
      if (reflectSubs[i]?.sock === sock) reflectSubs.splice(i, 1);
  });
}

interface Sub {
  sock: net.Socket;
  sid: string;
}
const subsBySubject = new Map<string, Sub[]>();

async function blast(sock: net.Socket, subject: string, sid: string, count: number): Promise<void> {
  const frame = msgFrame(subject, sid);
  const per = 10_000;
  const batch = repeatFrame(frame, per);
  let left = count;
  while (left > 0 && !sock.destroyed) {
    const buf = left >= per ? batch : repeatFrame(frame, left);
    left -= Math.min(left, per);
    if (!sock.write(buf)) await new Promise<void>((r) => sock.once("drain", r).once("close", r));
  }
}

function mini(sock: net.Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  const mySubs: Array<{ subject: string; sid: string }> = [];
  const handle = (args: string[], payload: Buffer | null): void => {
    const op = (args[0] ?? "").toUpperCase();
    if (op === "PING") sock.write(PONG);
    else if (op === "SUB" && args.length >= 3) {
      const subject = args[1] as string;
      const sid = args[args.length - 1] as string;
      mySubs.push({ subject, sid });
      const list = subsBySubject.get(subject) ?? [];
      list.push({ sock, sid });
      subsBySubject.set(subject, list);
    } else if (op === "PUB" && payload) {
      const subject = args[1] as string;
      if (subject === "bench.blast") {
        const s = mySubs[0];
        if (s) void blast(sock, s.subject, s.sid, Number(payload.toString("latin1")));
        return;
      }
      const reply = args.length === 4 ? ` ${args[2]}` : "";
      for (const sub of subsBySubject.get(subject) ?? []) {
        const head = Buffer.from(`MSG ${subject} ${sub.sid}${reply} ${payload.length}\r\n`, "latin1");
        sub.sock.write(Buffer.concat([head, payload, Buffer.from("\r\n", "latin1")]));
      }
    }
  };
  sock.on("data", (chunk: Buffer) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const nl = pending.indexOf(10, pos);
      if (nl < 0) break;
      const args = pending.toString("latin1", pos, nl).trim().split(/\s+/);
      if ((args[0] ?? "").toUpperCase() === "PUB") {
        const size = Number(args[args.length - 1]);
        if (nl + 1 + size + 2 > pending.length) break;
        handle(args, pending.subarray(nl + 1, nl + 1 + size));
        pos = nl + 1 + size + 2;
      } else {
        handle(args, null);
        pos = nl + 1;
      }
    }
    pending = pos >= pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(pos));
  });
  sock.on("close", () => {
    for (const s of mySubs) {
      const list = subsBySubject.get(s.subject) ?? [];
      subsBySubject.set(
        s.subject,
        list.filter((x) => x.sock !== sock),
      );
    }
  });
}

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on("error", () => sock.destroy());
  sock.write(info());
  if (mode === "reflect") reflect(sock);
  else mini(sock);
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
