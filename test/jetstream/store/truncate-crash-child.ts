// Child process for the truncate crash test: appends batches and truncates now and then, one operation
// in flight at a time, printing each once it is durable, until the parent kills it with SIGKILL. Does
// nothing unless asked to, since the test runner also loads every file in this folder.
//   A <seq> <gen>   append of seq (payload truncPayload(seq, gen)) acknowledged
//   t <seq>         about to truncate to seq
//   T <seq>         truncate to seq acknowledged

import { writeSync } from "node:fs";
import { FileStore } from "../../../src/jetstream/store/index.js";

export const truncPayload = (seq: number, gen: number) => `g${gen}-s${seq}-${"y".repeat(seq % 61)}`;
export const truncSubject = (seq: number) => `trunc.${seq % 5}`;

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

async function main(dir: string, round: number): Promise<void> {
  const store = await FileStore.open({ dir, blockSize: 16 * 1024 });
  // Generations tell a message appended again at a truncated sequence from the one it replaced.
  let gen = round * 100_000;
  let step = 0;
  for (;;) {
    step++;
    if (step % 4 === 0 && store.state().lastSeq > 10) {
      const last = store.state().lastSeq;
      // Mostly short tails (a divergent uncommitted tail), sometimes across many blocks.
      const back = step % 12 === 0 ? Math.floor(last / 2) : 1 + (step % 37);
      const seq = Math.max(0, last - back);
      emit(`t ${seq}\n`);
      gen++;
      store.truncate(seq);
      await store.flush();
      emit(`T ${seq}\n`);
      continue;
    }
    const acked: string[] = [];
    for (let k = 0; k < 50; k++) {
      const seq = store.state().lastSeq + 1;
      store.appendSync(truncSubject(seq), undefined, Buffer.from(truncPayload(seq, gen)));
      acked.push(`A ${seq} ${gen}`);
    }
    await store.flush();
    emit(`${acked.join("\n")}\n`);
  }
}

if (process.env.LATTICE_TRUNCATE_CRASH_CHILD === "1") {
  main(process.argv[2], Number(process.argv[3])).catch((err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
