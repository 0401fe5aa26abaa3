// Exports and imports declared in account JWTs (operator mode), including token-required exports that need
// an activation JWT from the exporter; compared with nats-server 2.9.10 when it is installed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeActivation } from "@nats-io/jwt";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import { Operator, user } from "../auth/jwt-fixtures.js";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";
import { confText } from "./helpers.js";

describe("operator mode: JWT imports and exports", () => {
  it("routes public service and stream exports, and token-required ones only with an activation", async () => {
    const op = await Operator.create();
    const a = await op.account("A", {
      exports: [
        { name: "svc", subject: "svc.>", type: "service" },
        { name: "feed", subject: "feed.>", type: "stream" },
        { name: "old", subject: "old.>", type: "stream" },
        { name: "private", subject: "private.>", type: "stream", token_req: true },
      ],
    });
    const b = await op.account("B");
    const activation = await encodeActivation("act", b.kp, a.kp, "stream", { subject: "private.>" } as never);
    await op.reissue(b, "B", {
      imports: [
        { name: "svc", subject: "svc.>", account: a.key, type: "service", local_subject: "ask.>" },
        { name: "feed", subject: "feed.>", account: a.key, type: "stream", local_subject: "news.>" },
        // The older `to` of a stream import is a prefix.
        { name: "old", subject: "old.>", account: a.key, type: "stream", to: "pfx" },
        { name: "private", subject: "private.>", account: a.key, type: "stream", token: activation },
      ] as never,
    });
    const c = await op.account("C");
    await op.reissue(c, "C", {
      imports: [{ name: "private", subject: "private.>", account: a.key, type: "stream" }] as never,
    });
    const ua = await user(a.kp, { bearer_token: true });
    const ub = await user(b.kp, { bearer_token: true });
    const uc = await user(c.kp, { bearer_token: true });

    const run = async (url: string) => {
      // B connects first: A is loaded from the resolver because B's imports name it.
      const nb = await connect({ servers: url, authenticator: jwtAuthenticator(ub.jwt) });
      const nc = await connect({ servers: url, authenticator: jwtAuthenticator(uc.jwt) });
      const na = await connect({ servers: url, authenticator: jwtAuthenticator(ua.jwt) });
      na.subscribe("svc.>", { callback: (_e, m) => void m.respond(`A answers ${m.subject}`) });
      const inB: string[] = [];
      const inC: string[] = [];
      nb.subscribe(">", { callback: (_e, m) => void inB.push(m.subject.replace(/^_INBOX\..*/, "_INBOX")) });
      nc.subscribe(">", { callback: (_e, m) => void inC.push(m.subject) });
      await nb.flush();
      await nc.flush();
      await na.flush();
      const answer = (await nb.request("ask.time", "", { timeout: 2000 })).string();
      na.publish("feed.1", "f");
      na.publish("private.1", "p");
      na.publish("old.1", "o");
      await na.flush();
      await new Promise((res) => setTimeout(res, 150));
      await na.close();
      await nb.close();
      await nc.close();
      return { answer, inB: inB.sort(), inC };
    };

    const srv = await startLattice(op.config());
    let ours: Awaited<ReturnType<typeof run>>;
    try {
      ours = await run(srv.url);
    } finally {
      await srv.close();
    }
    assert.deepEqual(ours, {
      answer: "A answers svc.time",
      inB: ["_INBOX", "ask.time", "news.1", "pfx.old.1", "private.1"],
      inC: [],
    });
    if (hasNatsServer()) {
      const ref = await startNatsServer(confText(op.config()));
      try {
        assert.deepEqual(ours, await run(ref.url));
      } finally {
        await ref.close();
      }
    }
  });
});
