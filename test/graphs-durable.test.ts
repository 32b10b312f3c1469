import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { connectAs, type TestClient } from "./support/clients.js";
import { connect, request, startGateway, type RunningGateway } from "./support/gateway.js";
import { createPrivateDatabase, type PrivateDatabase } from "./support/postgres.js";
import { spawnGateway } from "./support/process.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, joined } from "./support/streams.js";

/** Sends `payload` as a message with a known id and collects its stream until it ends or pauses. */
async function run(socket: TestClient, type: string, payload: Record<string, unknown>) {
  const id = (payload["message_id"] as string | undefined) ?? randomUUID();
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, type, { ...payload, message_id: id });
  expect(ack.ok, JSON.stringify(ack)).to.equal(true);
  return { id, ...(await stream) };
}

describe("interrupted runs kept in PostgreSQL", function () {
  this.timeout(90000);
  let database: PrivateDatabase;
  before(async () => {
    database = await createPrivateDatabase();
  });
  after(() => database.drop());

  it("resumes an interrupted run after the gateway restarts", async () => {
    const env = { CHECKPOINT_DATABASE_URL: database.url, DEMO_TOKEN_DELAY_MS: "0" };
    const session = { session_id: `approval-${randomUUID()}` };
    const first = await spawnGateway(env);
    const before = await connect(first.url, session);
    const paused = await run(before.socket, "message", {
      content: "Write a haiku",
      graph: "approval",
    });
    expect(paused.end.type).to.equal("run_interrupted");
    const draft = joined(paused.chunks);
    expect(draft.length).to.be.greaterThan(0);
    before.socket.close();
    first.child.kill("SIGTERM");
    expect(await first.exited).to.equal(0);

    const second = await spawnGateway(env);
    try {
      const after = await connectAs("ws", second.url, session);
      const history = (await request(after.socket, "get_history", { graph: "approval" })) as {
        data: {
          interrupted: { message_id: string; interrupts: Array<{ value: { draft: string } }> };
        };
      };
      expect(history.data.interrupted.message_id).to.equal(paused.id);
      expect(history.data.interrupted.interrupts[0]?.value.draft).to.equal(draft);
      const resumed = collectStream(after.socket, () => paused.id);
      const ack = await request(after.socket, "resume_run", {
        message_id: paused.id,
        resume: { edit: "An edited haiku" },
      });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      const { end } = await resumed;
      expect(end).to.deep.include({ type: "stream_end", total_content: "Sent: An edited haiku" });
      after.socket.close();
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  describe("in a cluster", () => {
    let redis: PrivateRedis;
    let nodes: RunningGateway[];
    before(async () => {
      redis = await startRedisServer();
      const env = {
        REDIS_URL: redis.url,
        CHECKPOINT_DATABASE_URL: database.url,
        DEMO_TOKEN_DELAY_MS: "0",
      };
      nodes = [await startGateway(env), await startGateway(env)];
    });
    after(async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await redis.stop();
    });

    it("resumes on node B a run interrupted on node A, streaming to the clients of both", async () => {
      const [a, b] = nodes as [RunningGateway, RunningGateway];
      const session = { session_id: `cluster-approval-${randomUUID()}` };
      const onA = await connectAs("socketio", a.url, session);
      const onB = await connectAs("ws", b.url, session);
      const id = randomUUID();
      // B hears of the pause through the other node: wait for it, so it is not taken for the resumed run's end.
      const pausedOnB = collectStream(onB.socket, () => id);
      const paused = await run(onA.socket, "message", {
        content: "Plan a trip",
        graph: "approval",
        message_id: id,
      });
      expect(paused.end.type).to.equal("run_interrupted");
      expect((await pausedOnB).end.type).to.equal("run_interrupted");
      const seenOnA = collectStream(onA.socket, () => paused.id);
      const seenOnB = collectStream(onB.socket, () => paused.id);
      const ack = await request(onB.socket, "resume_run", { message_id: paused.id, resume: true });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      const draft = joined(paused.chunks);
      for (const seen of [await seenOnA, await seenOnB]) {
        expect(seen.end).to.deep.include({ type: "stream_end", total_content: `Sent: ${draft}` });
      }
      const twice = await request(onA.socket, "resume_run", {
        message_id: paused.id,
        resume: true,
      });
      expect((twice as { error: { code: string } }).error.code).to.equal("not_interrupted");
      onA.socket.close();
      onB.socket.close();
    });
  });
});
