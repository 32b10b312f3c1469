import { expect } from "chai";
import { RateLimiterRes } from "rate-limiter-flexible";
import { connectCluster, ClusterStartError } from "../src/cluster/redis-cluster.js";
import { loadConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/logger.js";
import {
  connect,
  nextEvent,
  refusal,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import WebSocket from "ws";
import { connectAs, PlainClient, type TestClient } from "./support/clients.js";
import { collectStream } from "./support/streams.js";

const API_KEY = "cluster-test-api-key-0123456789";
const operator = { headers: { authorization: `Bearer ${API_KEY}` } };

interface StatisticsBody {
  active_connections: number;
  connections: Array<{ id: string; node_id: string }>;
}

/** Rejects if the promise has not settled in time, naming what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls a condition until it holds, for at most `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls /readyz until it answers the status, for at most `timeoutMs`. */
async function readiness(url: string, status: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as { status: string; reason?: string };
    if (res.status === status) return body;
    if (Date.now() > deadline) {
      throw new Error(`/readyz stayed ${res.status} (${JSON.stringify(body)}), not ${status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function postProjectEvent(url: string, projectId: string, data: Record<string, unknown>) {
  return fetch(`${url}/api/projects/${projectId}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "project_message", data }),
  });
}

describe("cluster of two gateways over Redis", () => {
  let redis: PrivateRedis;
  let a: RunningGateway;
  let b: RunningGateway;
  const sockets: TestClient[] = [];

  async function open(server: RunningGateway, auth: Record<string, unknown> = {}) {
    const { socket, connected } = await connect(server.url, auth);
    sockets.push(socket);
    return { socket, connected };
  }

  before(async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, API_KEY };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it("refuses the 6th connection of a session split 3+3 over the nodes", async () => {
    const auth = { session_id: "split-session" };
    for (let i = 0; i < 3; i++) await open(a, auth);
    for (let i = 0; i < 2; i++) await open(b, auth);
    const refused = await refusal(b.url, auth);
    expect(refused.code).to.equal("session_full");
  });

  it("serves plain WebSocket clients across nodes: stream chunks and project pushes", async () => {
    const onA = await connectAs("ws", a.url);
    const session_id = onA.connected.session_id;
    const otherOnB = await connectAs("ws", b.url, { session_id });
    const sioOnB = await open(b, { session_id });
    sockets.push(onA.socket, otherOnB.socket);
    const id = "plain-across";
    const atA = collectStream(onA.socket, () => id);
    const atB = collectStream(sioOnB.socket, () => id);
    await request(otherOnB.socket, "message", { content: "Tell me about owls", message_id: id });
    const [plain, sio] = await within(Promise.all([atA, atB]), 10_000, "the stream on both nodes");
    expect(plain.chunks.length).to.be.greaterThan(3);
    expect(plain.chunks).to.deep.equal(sio.chunks);

    await request(onA.socket, "join_project", { project_id: "p-plain" });
    const pushed = nextEvent(onA.socket, "project_message");
    expect((await postProjectEvent(b.url, "p-plain", { text: "from B" })).status).to.equal(202);
    expect(await within(pushed, 5000, "project_message at A")).to.deep.include({
      project_id: "p-plain",
      data: { text: "from B" },
    });
  });

  it("translates for dialect clients across nodes: a discussion started on A, group-chat clients of both transports on B, AutoCode pushes", async () => {
    const session_id = "dialects-across";
    const native = await open(a, { session_id });
    const plainOnB = await connectAs(
      "ws",
      b.url,
      {},
      { path: `/ws?session_id=${session_id}&dialect=group-chat` },
    );
    const sioOnB = await open(b, { session_id, dialect: "group-chat" });
    sockets.push(plainOnB.socket);
    const completes = [plainOnB.socket, sioOnB.socket].map((client) => {
      const texts: unknown[] = [];
      client.onAny((type: string, frame: Record<string, unknown>) => {
        if (type === "streaming_complete")
          texts.push((frame["data"] as { full_content: string }).full_content);
      });
      return texts;
    });
    const ends = [plainOnB.socket, sioOnB.socket, native.socket].map((c) =>
      nextEvent(c, "stream_end"),
    );
    await request(native.socket, "start_conversation", {
      topic: "owls",
      rounds: 1,
      message_id: "across",
    });
    const [, , end = {}] = await within(
      Promise.all(ends),
      10_000,
      "the discussion's end on both nodes",
    );
    expect(completes[0]!.length).to.be.at.least(2);
    expect(completes[0]).to.deep.equal(completes[1]);
    expect(completes[0]!.join("\n\n")).to.equal(end["total_content"]);

    const autocode = new PlainClient(
      new WebSocket(
        `${b.url.replace(/^http/, "ws")}/ws/projects/p-envelope/status?dialect=autocode`,
      ),
    );
    sockets.push(autocode);
    const joined = nextEvent(autocode, "joined_project");
    await autocode.ready;
    await joined;
    const pushed = nextEvent(autocode, "project_message");
    expect((await postProjectEvent(a.url, "p-envelope", { text: "from A" })).status).to.equal(202);
    expect(await within(pushed, 5000, "project_message at B")).to.deep.include({
      projectGuid: "p-envelope",
      data: { text: "from A" },
    });
  });

  it("counts project members across the cluster", async () => {
    const onA = await open(a);
    const onB = await open(b);
    expect(await request(onA.socket, "join_project", { project_id: "p-count" })).to.deep.include({
      ok: true,
      data: { project_id: "p-count", members: 1 },
    });
    const joined = nextEvent<{ project_id: string; members: number }>(onB.socket, "joined_project");
    await request(onB.socket, "join_project", { project_id: "p-count" });
    expect(await joined).to.include({ project_id: "p-count", members: 2 });
  });

  it("delivers a project event posted on one node to a client of the other", async () => {
    const onB = await open(b);
    await request(onB.socket, "join_project", { project_id: "p-push" });
    const received = nextEvent<{ project_id: string; data: unknown }>(
      onB.socket,
      "project_message",
    );
    const res = await postProjectEvent(a.url, "p-push", { text: "hello from A" });
    expect(res.status).to.equal(202);
    const event = await within(received, 5000, "project_message on node B");
    expect(event).to.deep.include({ project_id: "p-push", data: { text: "hello from A" } });
  });

  it("lists the connections of both nodes in /ws/statistics on either node", async () => {
    const onA = await open(a);
    const onB = await open(b);
    for (const server of [a, b]) {
      const stats = (await (
        await fetch(`${server.url}/ws/statistics`, operator)
      ).json()) as StatisticsBody;
      const nodes = Object.fromEntries(stats.connections.map((c) => [c.id, c.node_id]));
      expect(nodes[onA.connected.connection_id]).to.equal(a.gateway.nodeId);
      expect(nodes[onB.connected.connection_id]).to.equal(b.gateway.nodeId);
      expect(stats.active_connections).to.equal(stats.connections.length);
    }
  });

  it("is not ready while Redis is down, and delivers across nodes again once it is back", async () => {
    const onB = await open(b);
    await request(onB.socket, "join_project", { project_id: "p-outage" });
    await readiness(a.url, 200);

    await redis.stop();
    for (const server of [a, b]) {
      expect(await readiness(server.url, 503)).to.deep.equal({
        status: "not_ready",
        reason: "redis unavailable",
      });
    }
    // Clients stay connected through the outage; a post reaches local rooms only.
    expect((await postProjectEvent(a.url, "p-outage", { during: true })).status).to.equal(202);

    await redis.restart();
    await Promise.all([readiness(a.url, 200), readiness(b.url, 200)]);
    const received = nextEvent<{ data: unknown }>(onB.socket, "project_message");
    await postProjectEvent(a.url, "p-outage", { after: true });
    expect((await within(received, 5000, "project_message after restart")).data).to.deep.equal({
      after: true,
    });
    // Redis came back empty: node B put its connection and membership back on reconnect.
    const listed = async () => {
      const stats = (await (
        await fetch(`${a.url}/ws/statistics`, operator)
      ).json()) as StatisticsBody;
      return stats.connections.some((c) => c.id === onB.socket.id);
    };
    const deadline = Date.now() + 5000;
    while (!(await listed())) {
      expect(Date.now(), "node B's connection listed again").to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it("shares the rate limit across nodes, falls back to memory and closes while Redis is down", async () => {
    const config = loadConfig({ REDIS_URL: redis.url, LOG_LEVEL: "error" });
    const log = createLogger({ level: "error", format: "json" });
    const one = await connectCluster(config, log, { nodeId: "rl-1", prefix: "rl:" });
    const two = await connectCluster(config, log, { nodeId: "rl-2", prefix: "rl:" });
    try {
      const [first, second] = [one.rateLimiter("session", 2), two.rateLimiter("session", 2)];
      await first.consume("client-1");
      await second.consume("client-1");
      const refused: unknown = await first.consume("client-1").catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(RateLimiterRes);

      await redis.stop();
      await eventually(() => !one.isReady());
      // The insurance limiter answers at once, with its own count.
      expect(
        await within(first.consume("client-2"), 1000, "consume during outage"),
      ).to.be.instanceOf(RateLimiterRes);
      await within(Promise.all([one.close(), two.close()]), 3000, "close during outage");
    } finally {
      await Promise.all([one.close(), two.close()]);
      await redis.restart();
    }
  });

  it("serves and closes a gateway promptly while Redis is down, without unhandled rejections", async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", record);
    // The refused admission below logs a warning; it is expected here.
    const quiet = createLogger({ level: "error", format: "json" });
    quiet.silent = true;
    const c = await startGateway({ REDIS_URL: redis.url, API_KEY }, { log: quiet });
    try {
      const { socket } = await open(c);
      await request(socket, "join_project", { project_id: "p-down" });
      await redis.stop();
      await readiness(c.url, 503);
      // Broadcasts fail inside, clean-ups wait; connected clients are still served.
      expect((await postProjectEvent(c.url, "p-down", { lost: true })).status).to.equal(202);
      expect(await request(socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
      const refused = await refusal(c.url);
      expect(refused.code).to.equal("unavailable");
      socket.close();
      await within(c.close(), 3000, "gateway close during outage");
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).to.deep.equal([]);
    } finally {
      process.off("unhandledRejection", record);
      await c.close();
      await redis.restart();
    }
  });

  it("admits under its own caps while Redis is down with CLUSTER_ADMISSION_ON_REDIS_DOWN=local, and reconciles", async () => {
    const quiet = createLogger({ level: "error", format: "json" });
    quiet.silent = true;
    const c = await startGateway(
      {
        REDIS_URL: redis.url,
        API_KEY,
        CLUSTER_ADMISSION_ON_REDIS_DOWN: "local",
        WS_MAX_CONNECTIONS: "2",
      },
      { log: quiet },
    );
    try {
      await redis.stop();
      await readiness(c.url, 503);
      const during = await open(c, { session_id: "outage-session" });
      await open(c);
      // This node's own cap holds during the outage.
      expect((await refusal(c.url)).code).to.equal("server_full");
      expect((await refusal(a.url)).code).to.equal("unavailable");

      await redis.restart();
      await readiness(c.url, 200);
      // The connection admitted alone is known to the whole cluster again, its owner with it.
      const listed = async () => {
        const stats = await a.gateway.state.connections.statistics();
        return stats.connections.some((conn) => conn.id === during.socket.id);
      };
      const deadline = Date.now() + 5000;
      while (!(await listed())) {
        expect(Date.now(), "the outage connection listed on node A").to.be.below(deadline);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      for (const socket of sockets.splice(0)) socket.close();
      await c.close();
      await redis.restart();
    }
  });

  it("fails to start with a clear error when Redis does not answer", async () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:1", LOG_LEVEL: "error" });
    const log = createLogger({ level: "error", format: "json" });
    const started = Date.now();
    const error = await connectCluster(config, log, { nodeId: "n1", startTimeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterStartError);
    expect((error as Error).message).to.match(/did not answer within 300 ms/);
    expect(Date.now() - started).to.be.below(3000);
  });
});
