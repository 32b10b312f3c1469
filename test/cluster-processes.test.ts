import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  asOperator,
  connect,
  nextEvent,
  OPERATOR_KEY,
  refusal,
  request,
} from "./support/gateway.js";
import { spawnGateway, type GatewayProcess } from "./support/process.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, expectContiguous, type Chunk } from "./support/streams.js";
import { waitFor } from "./support/wait-for.js";

const LONG = "Explain how glaciers move, step by step";

interface Statistics {
  connections: Array<{ id: string; node_id: string }>;
}

async function statistics(url: string): Promise<Statistics> {
  return (await (await fetch(`${url}/ws/statistics`, asOperator)).json()) as Statistics;
}

/** Rejects if the promise has not settled in time, naming what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("cluster nodes as real processes", function () {
  this.timeout(60_000);
  let redis: PrivateRedis;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const processes: GatewayProcess[] = [];
  const sockets: ClientSocket[] = [];

  async function node(env: Record<string, string> = {}) {
    const started = await spawnGateway({
      REDIS_URL: redis.url,
      API_KEY: OPERATOR_KEY,
      CLUSTER_NODE_TTL_SECONDS: "1",
      DEMO_TOKEN_DELAY_MS: "20",
      ...env,
    });
    processes.push(started);
    return started;
  }

  async function open(url: string, sessionId?: string) {
    const opened = await connect(url, sessionId ? { session_id: sessionId } : {});
    sockets.push(opened.socket);
    return opened;
  }

  before(async () => {
    redis = await startRedisServer();
    // One place per session, cluster-wide, so the caps show ghosts.
    const env = { WS_MAX_CONNECTIONS_PER_SESSION: "1" };
    [a, b] = await Promise.all([node(env), node(env)]);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(async () => {
    for (const p of processes.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await p.exited;
    }
    await redis?.stop();
  });

  it("after a SIGKILL mid-stream: ghosts leave the caps within the TTL, a resume elsewhere gets every stored chunk, then run_lost", async () => {
    const first = await open(a.url);
    const sessionId = first.connected.session_id;
    const seen: Chunk[] = [];
    const three = new Promise<void>((resolve) =>
      first.socket.on("stream_chunk", (chunk: Chunk) => {
        seen.push(chunk);
        if (seen.length === 3) resolve();
      }),
    );
    const id = randomUUID();
    await request(first.socket, "message", { content: LONG, message_id: id });
    await three;
    // The session's one place is taken, cluster-wide.
    expect((await refusal(b.url, { session_id: sessionId })).code).to.equal("session_full");
    a.child.kill("SIGKILL");
    const killedAt = Date.now();
    await a.exited;
    const lastSeen = seen.at(-1)?.seq ?? 0;

    await waitFor(
      async () =>
        !(await statistics(b.url)).connections.some((c) => c.id === first.connected.connection_id),
      5000,
    );
    const ghostGoneMs = Date.now() - killedAt;

    // The client comes back on the other node, as behind a load balancer: the place is free again.
    const second = await open(b.url, sessionId);
    const rest = collectStream(second.socket, () => id);
    expect(await request(second.socket, "resume", { message_id: id, after_seq: 2 })).to.deep.equal({
      ok: true,
      data: { message_id: id },
    });
    const { chunks, end } = await within(rest, 10_000, "the end of the lost stream");
    const lostMs = Date.now() - killedAt;
    expect(end).to.include({ type: "error", code: "run_lost", message_id: id });
    expect(expectContiguous(chunks, 3)).to.equal(true);
    // Everything the dead node sent its own client had been stored first.
    expect(chunks.at(-1)?.seq ?? 0).to.be.at.least(lastSeen);
    // The node TTL is 1 s: both happen within a TTL and a beat or a read.
    expect(ghostGoneMs).to.be.below(2500);
    expect(lostMs).to.be.below(4000);
    // No CHECKPOINT_DATABASE_URL here: every node says its conversations are its own.
    expect(b.output()).to.include("CHECKPOINT_DATABASE_URL is not set");
    console.log(
      `      after SIGKILL (node TTL 1 s): ghost gone in ${ghostGoneMs} ms, run_lost at ${lostMs} ms`,
    );
  });

  it("on SIGTERM finishes its streams, refuses newcomers, tells its clients and exits 0", async () => {
    // Node B allows one connection per session, this one five: B's client comes first.
    const a = await node({ SHUTDOWN_GRACE_SECONDS: "20" });
    const onB = await open(b.url);
    const onA = await open(a.url, onB.connected.session_id);
    const id = randomUUID();
    const onAStream = collectStream(onA.socket, () => id);
    const onBStream = collectStream(onB.socket, () => id);
    const started = nextEvent(onA.socket, "stream_chunk");
    await request(onA.socket, "message", { content: LONG, message_id: id });
    await started;
    const shutdown = nextEvent<{ reconnect: boolean }>(onA.socket, "server_shutdown");
    const disconnected = nextEvent<string>(onA.socket, "disconnect");
    a.child.kill("SIGTERM");

    // Draining: not ready, and a newcomer is sent away.
    await waitFor(async () => (await fetch(`${a.url}/readyz`)).status === 503, 5000);
    expect((await refusal(a.url)).code).to.equal("shutting_down");

    const { end } = await within(onAStream, 20_000, "the stream on the stopping node");
    expect(end.type).to.equal("stream_end");
    expect((await onBStream).end).to.deep.equal(end);
    expect(await within(shutdown, 5000, "server_shutdown")).to.include({ reconnect: true });
    // A transport close, not a server disconnect: the official client then reconnects by itself.
    expect(await disconnected).to.equal("transport close");
    expect(await within(a.exited, 10_000, "exit")).to.equal(0);
    // Its clients carry on with the other node (whose one place B's own client gives up).
    onB.socket.close();
    const again = await open(b.url, onA.connected.session_id);
    expect(await request(again.socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
  });
});
