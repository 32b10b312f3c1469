import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  connect,
  recordEvents,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, expectContiguous, joined } from "./support/streams.js";

const LONG = "Explain how glaciers move, step by step";

/** Rejects if the promise has not settled in time, naming what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once the socket has received `count` chunks of any stream. */
function chunks(socket: ClientSocket, count: number): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = (chunk: { seq: number }) => {
      if (++seen < count) return;
      socket.off("stream_chunk", listener);
      resolve(chunk.seq);
    };
    socket.on("stream_chunk", listener);
  });
}

async function ask(socket: ClientSocket, content: string, id: string = randomUUID()) {
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, "message", { content, message_id: id });
  return { id, ack, stream };
}

describe("agent streams across a cluster", function () {
  this.timeout(30_000);
  let redis: PrivateRedis;
  const gateways: RunningGateway[] = [];
  const sockets: ClientSocket[] = [];

  async function pair(env: Record<string, string> = {}) {
    const all = { REDIS_URL: redis.url, DEMO_TOKEN_DELAY_MS: "15", ...env };
    const started = await Promise.all([startGateway(all), startGateway(all)]);
    gateways.push(...started);
    return started;
  }

  async function open(server: RunningGateway, sessionId?: string) {
    const { socket, connected } = await connect(
      server.url,
      sessionId ? { session_id: sessionId } : {},
    );
    sockets.push(socket);
    return { socket, sessionId: connected.session_id };
  }

  before(async () => {
    redis = await startRedisServer();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await redis?.stop();
  });

  describe("with the default policy", () => {
    let a: RunningGateway;
    let b: RunningGateway;
    before(async () => {
      [a, b] = await pair();
    });

    it("resumes on node B a stream still running on node A, with no gap and no duplicate", async () => {
      const first = await open(a);
      const three = chunks(first.socket, 3);
      const { id } = await ask(first.socket, LONG);
      const lastSeq = await three;
      first.socket.disconnect();

      // B finds the run in the registry at admission: live events skip this socket.
      const second = await open(b, first.sessionId);
      const events = recordEvents(second.socket);
      const rest = collectStream(second.socket, () => id);
      expect(
        await request(second.socket, "resume", { message_id: id, after_seq: lastSeq }),
      ).to.deep.equal({ ok: true, data: { message_id: id } });
      const { chunks: got, end } = await within(rest, 20_000, "the rest of the stream");
      expect(end.type).to.equal("stream_end");
      expect(got.length).to.be.greaterThan(0);
      expect(expectContiguous(got, lastSeq + 1)).to.equal(true);
      expect(String(end["total_content"]).endsWith(joined(got))).to.equal(true);
      const seqs = events.filter((e) => e.type === "stream_chunk").map((e) => e.payload["seq"]);
      expect(
        new Set(seqs).size,
        JSON.stringify(events.map((e) => [e.type, e.payload["seq"]])),
      ).to.equal(seqs.length);
    });

    it("replays a finished stream on the other node", async () => {
      const onA = await open(a);
      const { id, stream } = await ask(onA.socket, "Tell me about rivers");
      const original = await stream;
      const onB = await open(b, onA.sessionId);
      const replay = collectStream(onB.socket, () => id);
      await request(onB.socket, "resume", { message_id: id, after_seq: 0 });
      const { chunks: got, end } = await replay;
      expect(got).to.deep.equal(original.chunks);
      expect(end).to.deep.equal(original.end);
    });

    it("shows a session's clients on both nodes the same live stream", async () => {
      const onA = await open(a);
      const onB = await open(b, onA.sessionId);
      const id = randomUUID();
      const seenOnB = collectStream(onB.socket, () => id);
      const { stream } = await ask(onA.socket, "what is 6 * 7?", id);
      const [fromA, fromB] = await Promise.all([stream, seenOnB]);
      expect(fromB).to.deep.equal(fromA);
      expect(fromA.end.type).to.equal("stream_end");
    });

    it("cancels from node B a run that node A holds", async () => {
      const onA = await open(a);
      const onB = await open(b, onA.sessionId);
      const started = chunks(onB.socket, 1);
      const { id, stream } = await ask(onA.socket, LONG);
      await started;
      expect(await request(onB.socket, "cancel", {})).to.deep.equal({
        ok: true,
        data: { message_id: id },
      });
      const { end } = await within(stream, 5000, "cancelled");
      expect(end).to.include({ type: "cancelled", reason: "cancelled by the client" });
      const again = await request(onB.socket, "cancel", { message_id: id });
      expect(!again.ok && again.error.code).to.equal("not_found");
    });

    it("enqueues a message sent on B while the session runs on A", async () => {
      const onA = await open(a);
      const onB = await open(b, onA.sessionId);
      const order: string[] = [];
      onB.socket.onAny((type: string, payload: { message_id?: string }) => {
        if (type === "stream_start" || type === "stream_end")
          order.push(`${type} ${payload.message_id}`);
      });
      const started = chunks(onB.socket, 1);
      const first = await ask(onA.socket, "Tell me about lakes");
      await started;
      const second = await ask(onB.socket, "Tell me about rivers");
      expect(second.ack).to.deep.equal({
        ok: true,
        data: { message_id: second.id, queue_position: 1 },
      });
      await within(second.stream, 20_000, "the queued run");
      expect((await first.stream).end.type).to.equal("stream_end");
      expect(order).to.deep.equal([
        `stream_start ${first.id}`,
        `stream_end ${first.id}`,
        `stream_start ${second.id}`,
        `stream_end ${second.id}`,
      ]);
    });
  });

  it("refuses a message on B while the session runs on A, under AGENT_MULTITASK=reject", async () => {
    const [a, b] = await pair({ AGENT_MULTITASK: "reject" });
    const onA = await open(a);
    const onB = await open(b, onA.sessionId);
    const started = chunks(onB.socket, 1);
    const first = await ask(onA.socket, LONG);
    await started;
    const refused = await request(onB.socket, "message", { content: "hello" });
    expect(!refused.ok && refused.error).to.deep.include({
      code: "busy",
      details: { running_message_id: first.id },
    });
    await request(onA.socket, "cancel", {});
  });

  it("interrupts the run on A for a message sent on B, under AGENT_MULTITASK=interrupt", async () => {
    const [a, b] = await pair({ AGENT_MULTITASK: "interrupt" });
    const onA = await open(a);
    const onB = await open(b, onA.sessionId);
    const started = chunks(onB.socket, 1);
    const first = await ask(onA.socket, LONG);
    await started;
    const second = await ask(onB.socket, "Tell me about rivers");
    expect(second.ack.ok).to.equal(true);
    expect((await first.stream).end).to.include({
      type: "cancelled",
      reason: "interrupted by a newer message",
    });
    expect((await within(second.stream, 20_000, "the newer run")).end.type).to.equal("stream_end");
  });

  it("streams to local clients while Redis is down, and resumes across nodes once it is back", async () => {
    const [a, b] = await pair();
    const onA = await open(a);
    await redis.stop();
    const during = await ask(onA.socket, "Tell me about rivers");
    expect(during.ack.ok).to.equal(true);
    const { chunks: got, end } = await within(during.stream, 20_000, "stream during outage");
    expect(end.type).to.equal("stream_end");
    expect(expectContiguous(got)).to.equal(true);

    await redis.restart();
    const restartedAt = Date.now();
    const ready = async (url: string) => (await fetch(`${url}/readyz`)).status === 200;
    const deadline = Date.now() + 10_000;
    while (!((await ready(a.url)) && (await ready(b.url)))) {
      expect(Date.now(), "both nodes ready again").to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`      both nodes ready ${Date.now() - restartedAt} ms after Redis restarted`);
    const after = await ask(onA.socket, "Tell me about lakes");
    const original = await after.stream;
    const onB = await open(b, onA.sessionId);
    const replay = collectStream(onB.socket, () => after.id);
    await request(onB.socket, "resume", { message_id: after.id, after_seq: 0 });
    expect(await within(replay, 5000, "replay after the outage")).to.deep.equal(original);
  });
});
