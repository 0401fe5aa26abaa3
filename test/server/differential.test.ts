import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../../src/index.js";
import {
  hasNatsServer,
  RawClient,
  startLattice,
  startNatsServer,
  type TestServer,
} from "../helpers/servers.js";

// Scripted raw-protocol sessions, good and malformed, played against Lattice and the reference nats-server:
// both must answer the same bytes (server INFO aside, since ids differ) and agree on closing.

const C = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
const CH = 'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n';

const SESSIONS: Record<string, string> = {
  "defaults are verbose and pedantic": "CONNECT {}\r\nPING\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n",
  "ping before connect without auth": "PING\r\n",
  "pub/sub with reply": `${C}SUB foo.* 7\r\nPUB foo.bar rep.ly 5\r\nhello\r\nPING\r\n`,
  "zero-length payload": `${C}SUB foo 1\r\nPUB foo 0\r\n\r\nPING\r\n`,
  "case-insensitive ops and bare newlines": `${C}sub foo 1\npub foo 2\nhi\r\nPiNg\n`,
  "tabs and repeated spaces": `${C}SUB\tfoo   1\r\nPUB  foo\t 2\r\nhi\r\nPING\r\n`,
  "headers delivered as HMSG": `${CH}SUB foo 1\r\nHPUB foo 22 24\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nhi\r\nPING\r\n`,
  "no responders": `${CH}SUB _INBOX.x.* 1\r\nPUB svc _INBOX.x.1 0\r\n\r\nPING\r\n`,
  "no echo":
    'CONNECT {"verbose":false,"pedantic":false,"echo":false}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\nPING\r\n',
  "queue subscription": `${C}SUB foo grp 1\r\nPUB foo 1\r\na\r\nPING\r\n`,
  "overlapping subscriptions each get a copy": `${C}SUB foo.* 1\r\nSUB foo.> 2\r\nSUB foo.bar 3\r\nPUB foo.bar 1\r\na\r\nPING\r\n`,
  "auto-unsubscribe": `${C}SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPING\r\n`,
  "unsubscribe below delivered count": `${C}SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1 1\r\nPUB foo 1\r\nb\r\nPING\r\n`,
  "unknown sid unsubscribe": `${C}UNSUB 99\r\nPING\r\n`,
  "duplicate sid keeps the first": `${C}SUB foo 1\r\nSUB bar 1\r\nPUB foo 1\r\na\r\nPUB bar 1\r\nb\r\nPING\r\n`,
  "invalid subject": `${C}SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB > 3\r\nPING\r\n`,
  "pedantic publish subject":
    'CONNECT {"verbose":false,"pedantic":true}\r\nSUB foo.* 1\r\nPUB foo.* 1\r\na\r\nPING\r\n',
  "verbose acks": 'CONNECT {"verbose":true}\r\nSUB foo 1\r\nUNSUB 1\r\nPUB foo 1\r\na\r\nPING\r\n',
  "bad payload trailer": `${C}PUB foo 2\r\nhix\r\nPING\r\n`,
  "unknown operation": `${C}FOO bar\r\n`,
  "client may not send MSG": `${C}MSG foo 1 2\r\nhi\r\n`,
  "too few PUB arguments": `${C}PUB foo\r\n`,
  "too many SUB arguments": `${C}SUB a b c d\r\n`,
  "negative size": `${C}PUB foo -1\r\n`,
  "HPUB without headers negotiated": `${C}HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n`,
  "HPUB header size above total": `${CH}HPUB foo 14 12\r\nNATS/1.0\r\n\r\nhi\r\n`,
  "payload over max_payload": `${C}PUB foo 2000000\r\n`,
  "control line too long": `${C}SUB ${"a".repeat(5000)} 1\r\n`,
  "invalid client protocol": 'CONNECT {"protocol":2,"verbose":false}\r\nPING\r\n',
  "no_responders requires headers": 'CONNECT {"no_responders":true,"verbose":false}\r\nPING\r\n',
  "malformed CONNECT JSON": "CONNECT {bad\r\nPING\r\n",
  "legacy account field": 'CONNECT {"verbose":false,"account":"A"}\r\nPING\r\n',
  "reserved reply subject": `${C}PUB foo _R_.x 1\r\na\r\nPING\r\n`,
};

function normalize(text: string): string {
  return text.replace(/^INFO \{.*\} ?\r\n/gm, "INFO\r\n");
}

async function play(port: number, script: string): Promise<{ text: string; closed: boolean }> {
  const c = await RawClient.connect(port);
  c.write(script);
  const text = await c.settle(250);
  const closed = c.closed;
  c.close();
  return { text: normalize(text), closed };
}

describe("raw protocol sessions match nats-server", {
  skip: !hasNatsServer() && "nats-server not installed",
}, () => {
  let lattice: RunningServer;
  let reference: TestServer;

  before(async () => {
    lattice = await startLattice();
    reference = await startNatsServer();
  });
  after(async () => {
    await lattice?.close();
    await reference?.close();
  });

  for (const [name, script] of Object.entries(SESSIONS)) {
    it(name, async () => {
      const [ours, theirs] = await Promise.all([play(lattice.port, script), play(reference.port, script)]);
      assert.equal(ours.text, theirs.text);
      assert.equal(ours.closed, theirs.closed, `closed: lattice=${ours.closed} nats-server=${theirs.closed}`);
    });
  }
});
