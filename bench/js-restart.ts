// JetStream restart: store N (default 1M) 16-byte messages in a file stream with
// pipelined publishes, record RSS, stop the server with SIGTERM (the clean
// shutdown of both servers), start it again on the same store dir and time
// from process start until `$JS.API.STREAM.INFO.<name>` reports all N messages.
import { performance } from "node:perf_hooks";
import { JsConn } from "./js-client.js";
import { createStream, JS_SUBJECT, runPipelinedPublish, streamState } from "./js-scenarios.js";
import {
  dirSize,
  type JsLaunch,
  makeStoreDir,
  removeStoreDir,
  type StopResult,
  spawnJsServer,
  startJsServer,
  stopTimed,
} from "./js-servers.js";
import type { ServerKey } from "./options.js";
import { type ManagedProcess, readRss, stopProcess } from "./servers.js";

export const RESTART_STREAM = "BENCHR";
const READY_TIMEOUT_MS = 120_000;

export interface JsRestartResult {
  target: number;
  /** Messages in the stream before the stop (STREAM.INFO). */
  stored: number;
  storedBytes: number;
  publishRate: number;
  publishSeconds: number;
  publishErrors: number;
  firstErrors: string[];
  /** RSS of the fresh -js server (stream created, empty). */
  rssEmpty: number | null;
  /** RSS with all messages stored, 1 s after the last ack; and the peak so far. */
  rssStored: number | null;
  hwmStored: number | null;
  /** (rssStored - rssEmpty) / stored. */
  rssBytesPerMsg: number | null;
  disk: { allocated: number; apparent: number; files: number };
  stop: StopResult;
  /** From spawn: first client handshake done / STREAM.INFO reporting all messages. */
  acceptMs: number;
  readyMs: number;
  /** STREAM.INFO polls until ready. */
  polls: number;
  messagesAfter: number;
  lastSeqAfter: number;
  /** RSS when ready, peak during recovery (VmHWM), and 1 s later. */
  rssReady: number | null;
  hwmReady: number | null;
  rssSettled: number | null;
  /** The last message read back with DIRECT.GET after the restart (null = ok, else what failed). */
  lastMsgCheck: string | null;
  capped: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runJsRestart(
  launch: JsLaunch,
  cfg: { count: number; inflight: number; stallMs: number; dir: string | null; key: ServerKey },
  log: (m: string) => void,
): Promise<JsRestartResult> {
  const storeDir = makeStoreDir(cfg.dir, cfg.key);
  let proc: ManagedProcess | null = null;
  try {
    proc = await startJsServer(launch, storeDir);
    let conn = await JsConn.connect("127.0.0.1", proc.port);
    let stored: number;
    let storedBytes: number;
    let rssEmpty: number | null;
    let pub: Awaited<ReturnType<typeof runPipelinedPublish>>;
    try {
      await createStream(conn, RESTART_STREAM);
      await sleep(250);
      rssEmpty = readRss(proc.pid);
      // Publishing 1M takes a few seconds on either server; allow ample time, still bounded.
      pub = await runPipelinedPublish(conn, JS_SUBJECT, cfg.count, cfg.inflight, 300_000, cfg.stallMs);
      const st = await streamState(conn, RESTART_STREAM, 60_000);
      stored = st.messages;
      storedBytes = st.bytes;
      if (pub.errors > 0)
        log(`    ${launch.name}: ${pub.errors} error acks while filling: ${pub.firstErrors[0]}`);
      if (stored !== pub.ok)
        log(`    ${launch.name}: stream holds ${stored} messages after ${pub.ok} PubAcks`);
    } finally {
      conn.close();
    }
    await sleep(1000);
    const rssStored = readRss(proc.pid);
    const hwmStored = readRss(proc.pid, "VmHWM");
    const stop = await stopTimed(proc, 30_000);
    proc = null;
    const disk = dirSize(storeDir);
    log(
      `    stored ${stored} msgs at ${(pub.ok / pub.seconds / 1000).toFixed(1)}k/s; SIGTERM → exit ` +
        `${stop.ms.toFixed(0)} ms${stop.killed ? " (SIGKILLed)" : ""}; restarting`,
    );

    // Restart: time from spawn until STREAM.INFO answers with every message.
    const t0 = performance.now();
    proc = await spawnJsServer(launch, storeDir);
    const running = proc;
    const deadline = t0 + READY_TIMEOUT_MS;
    let accepted: JsConn | null = null;
    while (accepted === null) {
      if (running.exited()) throw new Error(`server exited during restart:\n${running.tail().slice(-800)}`);
      if (performance.now() > deadline)
        throw new Error(`no connection within ${READY_TIMEOUT_MS} ms of restart`);
      try {
        accepted = await JsConn.connect(
          "127.0.0.1",
          running.port,
          Math.max(1000, deadline - performance.now()),
        );
      } catch {
        await sleep(5);
      }
    }
    conn = accepted;
    const acceptMs = performance.now() - t0;
    let readyMs = -1;
    let polls = 0;
    let last = "no reply";
    let messagesAfter = 0;
    let lastSeqAfter = 0;
    let seenCount = -1;
    let seenSince = 0;
    try {
      while (readyMs < 0) {
        if (running.exited())
          throw new Error(`server exited during recovery:\n${running.tail().slice(-800)}`);
        if (performance.now() > deadline) {
          throw new Error(`stream not ready within ${READY_TIMEOUT_MS} ms of restart (last: ${last})`);
        }
        polls++;
        let st: Awaited<ReturnType<typeof streamState>> | null = null;
        try {
          st = await streamState(conn, RESTART_STREAM, Math.max(1000, deadline - performance.now()));
        } catch (err) {
          last = (err as Error).message;
          conn.throwIfBroken();
        }
        if (st !== null) {
          messagesAfter = st.messages;
          lastSeqAfter = st.lastSeq;
          if (st.messages >= stored) {
            readyMs = performance.now() - t0;
            break;
          }
          last = `${st.messages} of ${stored} messages`;
          // A stream that answers with fewer messages and stays there has lost some: do not wait 2 minutes.
          if (st.messages !== seenCount) {
            seenCount = st.messages;
            seenSince = performance.now();
          } else if (performance.now() - seenSince > 10_000) {
            throw new Error(
              `stream came back with ${st.messages} of ${stored} messages (unchanged for 10 s)`,
            );
          }
        }
        await sleep(2);
      }
      const rssReady = readRss(running.pid);
      const hwmReady = readRss(running.pid, "VmHWM");
      let lastMsgCheck: string | null = null;
      try {
        const r = await conn.request(
          `$JS.API.DIRECT.GET.${RESTART_STREAM}`,
          JSON.stringify({ seq: lastSeqAfter }),
        );
        if (r.status !== null) lastMsgCheck = `DIRECT.GET seq ${lastSeqAfter}: status ${r.status}`;
        else if (r.body !== "0123456789abcdef")
          lastMsgCheck = `DIRECT.GET seq ${lastSeqAfter}: body "${r.body}"`;
      } catch (err) {
        lastMsgCheck = `DIRECT.GET seq ${lastSeqAfter}: ${(err as Error).message}`;
      }
      await sleep(1000);
      const rssSettled = readRss(running.pid);
      return {
        target: cfg.count,
        stored,
        storedBytes,
        publishRate: pub.ok / pub.seconds,
        publishSeconds: pub.seconds,
        publishErrors: pub.errors,
        firstErrors: pub.firstErrors,
        rssEmpty,
        rssStored,
        hwmStored,
        rssBytesPerMsg:
          rssStored !== null && rssEmpty !== null && stored > 0 ? (rssStored - rssEmpty) / stored : null,
        disk,
        stop,
        acceptMs,
        readyMs,
        polls,
        messagesAfter,
        lastSeqAfter,
        rssReady,
        hwmReady,
        rssSettled,
        lastMsgCheck,
        capped: pub.capped,
      };
    } finally {
      conn.close();
    }
  } finally {
    if (proc) await stopProcess(proc, 10_000);
    removeStoreDir(storeDir);
  }
}
