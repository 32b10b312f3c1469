import { spawn } from "node:child_process";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import { asOperator, connect, OPERATOR_KEY, request } from "./support/gateway.js";
import { freePort } from "./support/free-port.js";
import { spawnGateway, type GatewayProcess } from "./support/process.js";
import { sample, scrape } from "./support/prometheus.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, expectContiguous, type StreamOutcome } from "./support/streams.js";

interface Statistics {
  connections: Array<{ id: string; node_id: string }>;
}

type Transport = "polling" | "websocket";

describe("WORKERS=2 behind one port", function () {
  this.timeout(60_000);
  let redis: PrivateRedis | undefined;
  let gateway: GatewayProcess | undefined;
  const sockets: ClientSocket[] = [];

  async function open(url: string, transport: Transport, sessionId?: string) {
    const opened = await connect(url, sessionId ? { session_id: sessionId } : {}, {
      transports: [transport],
    });
    sockets.push(opened.socket);
    return opened;
  }

  /** Which worker (node id) holds each connection, as the shared statistics say. */
  async function workerOf(url: string, connectionId: string): Promise<string | undefined> {
    const stats = (await (await fetch(`${url}/ws/statistics`, asOperator)).json()) as Statistics;
    return stats.connections.find((c) => c.id === connectionId)?.node_id;
  }

  /** A session's polling client and WebSocket client on two different workers. */
  async function splitSession(url: string) {
    const first = await open(url, "polling");
    const sessionId = first.connected.session_id;
    const firstWorker = await workerOf(url, first.connected.connection_id);
    expect(firstWorker).to.be.a("string");
    // Least-connection balancing puts the next one on the other worker; a
    // stray connection could change that, so try a few.
    for (let attempt = 0; attempt < 4; attempt++) {
      const second = await open(url, "websocket", sessionId);
      if ((await workerOf(url, second.connected.connection_id)) !== firstWorker) {
        return { first, second };
      }
      second.socket.close();
    }
    throw new Error("every connection landed on the same worker");
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    if (gateway && gateway.child.exitCode === null) gateway.child.kill("SIGKILL");
    await gateway?.exited;
    gateway = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it("shares one stream between a session's clients on two workers, over polling and WebSocket, and stops cleanly", async () => {
    redis = await startRedisServer();
    gateway = await spawnGateway({
      REDIS_URL: redis.url,
      WORKERS: "2",
      DEMO_TOKEN_DELAY_MS: "5",
      API_KEY: OPERATOR_KEY,
    });
    const { url } = gateway;
    const { first, second } = await splitSession(url);

    const id = randomUUID();
    const streams = [first, second].map(({ socket }) => collectStream(socket, () => id));
    const ack = await request(first.socket, "message", {
      content: "Tell me about rivers",
      message_id: id,
    });
    expect(ack.ok).to.equal(true);
    const [viaPolling, viaWebSocket] = (await Promise.all(streams)) as [
      StreamOutcome,
      StreamOutcome,
    ];
    expect(viaPolling.end.type).to.equal("stream_end");
    expect(expectContiguous(viaPolling.chunks)).to.equal(true);
    expect(viaWebSocket).to.deep.equal(viaPolling);

    // A resume on the other worker reads the history from Redis.
    const replay = collectStream(second.socket, () => id);
    await request(second.socket, "resume", { message_id: id, after_seq: 0 });
    expect(await replay).to.deep.equal(viaPolling);

    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).to.equal(0);
    expect(gateway.output()).to.include('"all workers stopped"');
  });

  it("relays a session's stream between workers without Redis only once the session has a client on both", async () => {
    const metricsPort = await freePort();
    gateway = await spawnGateway({
      WORKERS: "2",
      DEMO_TOKEN_DELAY_MS: "5",
      API_KEY: OPERATOR_KEY,
      METRICS_PORT: String(metricsPort),
    });
    const { url } = gateway;
    // The primary's sum of both workers' session broadcasts, by reach.
    const broadcasts = async () => {
      const text = await scrape(`http://127.0.0.1:${metricsPort}`, asOperator);
      const of = (reach: string) => sample(text, "gateway_session_broadcasts_total", { reach });
      return { node: of("node"), cluster: of("cluster") };
    };
    const first = await open(url, "polling");

    // Alone on its worker: the stream never crosses to the other one.
    const alone = randomUUID();
    const before = await broadcasts();
    const solo = collectStream(first.socket, () => alone);
    await request(first.socket, "message", { content: "Tell me about owls", message_id: alone });
    const soloStream = await solo;
    expect(soloStream.end.type).to.equal("stream_end");
    const afterSolo = await broadcasts();
    expect(afterSolo.cluster).to.equal(before.cluster);
    expect(afterSolo.node - before.node).to.be.at.least(soloStream.chunks.length);

    // Least-connection balancing puts the second client on the other worker. Project counts
    // are per worker without Redis, which shows it: each client is its worker's only member.
    const second = await open(url, "websocket", first.connected.session_id);
    for (const { socket } of [first, second]) {
      expect(await request(socket, "join_project", { project_id: "p-workers" })).to.deep.equal({
        ok: true,
        data: { project_id: "p-workers", members: 1 },
      });
    }

    const id = randomUUID();
    const streams = [first, second].map(({ socket }) => collectStream(socket, () => id));
    await request(first.socket, "message", { content: "Tell me about lakes", message_id: id });
    const [a, b] = await Promise.all(streams);
    expect(a?.end.type).to.equal("stream_end");
    expect(b).to.deep.equal(a);
    expect((await broadcasts()).cluster - afterSolo.cluster).to.be.at.least(a?.chunks.length ?? 1);
    expect(gateway.output()).to.include("WORKERS > 1 without REDIS_URL");
  });

  it("opens 1,000 WebSocket connections through a primary that shares its core with a busy loop, each at the first try", async function () {
    this.timeout(300_000);
    gateway = await spawnGateway({ WORKERS: "2", WS_CONNECT_TIMEOUT: "20" });
    const { url } = gateway;
    const busy = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
    try {
      const lost: number[] = [];
      let next = 0;
      const one = async (n: number) => {
        const opened = connect(url);
        const late = new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000));
        const result = await Promise.race([opened, late]);
        if (result) result.socket.close();
        else {
          lost.push(n);
          void opened.then(({ socket }) => socket.close()).catch(() => {});
        }
      };
      const lane = async () => {
        while (next < 1000) await one(next++);
      };
      await Promise.all(Array.from({ length: 20 }, lane));
      expect(lost).to.deep.equal([]);
    } finally {
      busy.kill("SIGKILL");
      await once(busy, "exit");
    }
  });
});
