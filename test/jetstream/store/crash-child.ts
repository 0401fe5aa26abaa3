// Child process for the crash test: appends (and sometimes deletes) forever, printing every mutation once
// it is acknowledged as durable, until the parent kills it with SIGKILL. Does nothing unless asked to, since
// the test runner also loads every file in this folder.
//   A <seq>   append of seq acknowledged
//   R <seq>   about to delete seq (it may be gone after a crash even without a D line)
//   D <seq>   delete of seq acknowledged

import { writeSync } from "node:fs";
import { FileStore } from "../../../src/jetstream/store/index.js";

export const crashPayload = (seq: number) => `crash-payload-${seq}-${"z".repeat(seq % 97)}`;
export const crashSubject = (seq: number) => `crash.${seq % 13}`;

const MAX_IN_FLIGHT = 2000;

/**
 * Report lines with a blocking write: process.stdout queues pipe writes in memory, so a line could still
 * be unsent when the mutation it announces reaches the disk (page cache) and SIGKILL lands.
 */
function emit(text: string): void {
  const b = Buffer.from(text);
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
}

async function main(dir: string): Promise<void> {
  const store = await FileStore.open({ dir, blockSize: 64 * 1024 });
  let inFlight = 0;
  let acked: number[] = [];
  const turn = () => {
    const out: string[] = [];
    // Many appends per turn, each acknowledged by its own promise (one group commit covers them).
    for (let k = 0; k < 40 && inFlight < MAX_IN_FLIGHT; k++) {
      const seq = store.state().lastSeq + 1;
      inFlight++;
      store.append(crashSubject(seq), undefined, Buffer.from(crashPayload(seq))).then(
        (r) => {
          inFlight--;
          if (r.seq !== seq) throw new Error(`expected seq ${seq}, got ${r.seq}`);
          acked.push(seq);
          emit(`A ${seq}\n`);
        },
        (err) => {
          process.stderr.write(`append failed: ${String(err)}\n`);
          process.exit(2);
        },
      );
    }
    // Now and then delete an acknowledged message, and report it once that is durable too.
    if (acked.length > 10) {
      const victim = acked[acked.length >> 1];
      acked = acked.filter((s) => s !== victim);
      // Announce first: once remove() runs, the delete may reach the disk before its ack is printed.
      emit(`R ${victim}\n`);
      if (store.remove(victim)) out.push(`D ${victim}`);
    }
    if (out.length > 0) void store.flush().then(() => emit(`${out.join("\n")}\n`));
    setImmediate(turn);
  };
  turn();
}

if (process.env.LATTICE_STORE_CRASH_CHILD === "1") {
  main(process.argv[2]).catch((err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
