/**
 * The load: a separate process (forked by the runner) that opens the client
 * connections, drives one scenario and reports its figures over IPC. It
 * pauses at named checkpoints so the runner can read the server's CPU and
 * memory from /proc at the right moments.
 */
import { randomUUID } from "node:crypto";
import { io as connectClient } from "socket.io-client";
import { connectAs, type TestClient, type Transport } from "../test/support/clients.js";
import { BENCH_TOKEN, benchPrompt } from "./bench-model.js";
import { percentile, sleep } from "./stats.js";

/** `transport: "ws"` drives the gateway's plain WebSocket endpoint (/ws) instead of Socket.IO. */
export type ClientTask = { transport?: Transport } & (
  | { scenario: "idle"; urls: string[]; connections: number }
  | { scenario: "ping"; urls: string[]; connections: number; rounds: number }
  | { scenario: "fanout"; urls: string[]; clients: number; tokens: number }
  | { scenario: "sessions"; urls: string[]; sessions: number; tokens: number }
  | { scenario: "first-token"; urls: string[]; messages: number }
  | { scenario: "flood"; urls: string[]; perSec: number }
  | {
      scenario: "broadcast";
      urls: string[];
      connections: number;
      events: number;
      apiKey: string;
    }
);

export type ClientReport = Record<string, number>;

const task = JSON.parse(process.argv[2] ?? "{}") as ClientTask;
const CONNECT_CONCURRENCY = 250;
const STREAM_TIMEOUT_MS = 300_000;

/** Tells the runner where we are and waits for it to say go on. */
function checkpoint(name: string, figures: ClientReport = {}): Promise<void> {
  return new Promise((resolve) => {
    process.once("message", () => resolve());
    process.send?.({ type: "checkpoint", name, figures });
  });
}

async function open(url: string, sessionId?: string): Promise<TestClient> {
  if (task.transport === "ws")
    return (await connectAs("ws", url, sessionId === undefined ? {} : { session_id: sessionId }))
      .socket;
  const socket = connectClient(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: sessionId === undefined ? {} : { session_id: sessionId },
  });
  return new Promise<TestClient>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "connected" from ${url}`)), 60_000);
    socket.once("connected", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Opens n connections, a bounded number at a time, spread over the urls in turn. */
async function openMany(
  urls: string[],
  n: number,
  sessionOf: (i: number) => string | undefined = () => undefined,
): Promise<TestClient[]> {
  const sockets: TestClient[] = new Array<TestClient>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      sockets[i] = await open(urls[i % urls.length] as string, sessionOf(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, worker));
  return sockets;
}

/** This process's CPU (user + system) since `start`, in ms: how much of the 2 cores the load itself takes. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function closeAll(sockets: TestClient[]): void {
  for (const socket of sockets) socket.close();
}

interface StreamRecord {
  tokens: number;
  chunkEvents: number;
  firstAt: number;
  endAt: number;
  gaps: number[];
  seqOk: boolean;
  total: string;
}

/** Follows one message's stream on one socket until stream_end. */
function follow(socket: TestClient, messageId: string, keepGaps: boolean): Promise<StreamRecord> {
  const record: StreamRecord = {
    tokens: 0,
    chunkEvents: 0,
    firstAt: 0,
    endAt: 0,
    gaps: [],
    seqOk: true,
    total: "",
  };
  let last = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stream ${messageId} timed out`)),
      STREAM_TIMEOUT_MS,
    );
    const onChunk = (chunk: { message_id: string; seq: number; content: string }) => {
      if (chunk.message_id !== messageId) return;
      const now = performance.now();
      if (record.chunkEvents === 0) record.firstAt = now;
      else if (keepGaps) record.gaps.push(now - last);
      last = now;
      record.chunkEvents++;
      if (chunk.seq !== record.chunkEvents) record.seqOk = false;
      record.tokens += chunk.content.length / BENCH_TOKEN.length;
    };
    const onEnd = (end: { message_id: string; total_content: string }) => {
      if (end.message_id !== messageId) return;
      clearTimeout(timer);
      record.endAt = performance.now();
      record.total = end.total_content;
      socket.off("stream_chunk", onChunk);
      socket.off("stream_end", onEnd);
      resolve(record);
    };
    socket.on("stream_chunk", onChunk);
    socket.on("stream_end", onEnd);
  });
}

async function send(socket: TestClient, tokens: number, messageId: string): Promise<void> {
  const ack = (await socket.emitWithAck("message", {
    content: benchPrompt(tokens),
    message_id: messageId,
  })) as { ok: boolean; error?: { code: string } };
  if (!ack.ok) throw new Error(`message refused: ${ack.error?.code}`);
}

async function idle(t: Extract<ClientTask, { scenario: "idle" }>): Promise<ClientReport> {
  await checkpoint("before-connect");
  const started = performance.now();
  const sockets = await openMany(t.urls, t.connections);
  const seconds = (performance.now() - started) / 1000;
  await checkpoint("connected", { connect_rate: t.connections / seconds });
  closeAll(sockets);
  return { connect_rate: t.connections / seconds };
}

async function ping(t: Extract<ClientTask, { scenario: "ping" }>): Promise<ClientReport> {
  const sockets = await openMany(t.urls, t.connections);
  const roundTrip = (socket: TestClient) => {
    const started = performance.now();
    return socket.emitWithAck("ping", {}).then(() => performance.now() - started);
  };
  // Warm-up round: JIT and buffers, not measured.
  await Promise.all(sockets.map(roundTrip));
  await checkpoint("measure");
  const samples: number[] = [];
  const started = performance.now();
  for (let round = 0; round < t.rounds; round++) {
    samples.push(...(await Promise.all(sockets.map(roundTrip))));
    await sleep(20);
  }
  const seconds = (performance.now() - started) / 1000;
  await checkpoint("measured");
  closeAll(sockets);
  return {
    p50_ms: percentile(samples, 50),
    p99_ms: percentile(samples, 99),
    pings_per_s: samples.length / seconds,
  };
}

async function fanout(t: Extract<ClientTask, { scenario: "fanout" }>): Promise<ClientReport> {
  const warm = await open(t.urls[0] as string, `warm-${randomUUID()}`);
  const warmId = randomUUID();
  const warmed = follow(warm, warmId, false);
  await send(warm, 2000, warmId);
  await warmed;
  warm.close();

  const session = `fan-${randomUUID()}`;
  const sockets = await openMany(t.urls, t.clients, () => session);
  const messageId = randomUUID();
  const streams = sockets.map((s) => follow(s, messageId, false));
  await checkpoint("measure");
  const started = performance.now();
  const cpu = process.cpuUsage();
  await send(sockets[0] as TestClient, t.tokens, messageId);
  const records = await Promise.all(streams);
  const seconds = (Math.max(...records.map((r) => r.endAt)) - started) / 1000;
  const clientCpuMs = cpuMsSince(cpu);
  await checkpoint("measured");
  closeAll(sockets);
  const delivered = records.reduce((sum, r) => sum + r.tokens, 0);
  const expected = BENCH_TOKEN.repeat(t.tokens);
  return {
    tokens_per_s: delivered / seconds,
    tokens_delivered: delivered,
    chunk_events: records.reduce((sum, r) => sum + r.chunkEvents, 0),
    intact: records.every((r) => r.seqOk && r.total === expected) ? 1 : 0,
    client_cpu_ms: clientCpuMs,
  };
}

async function sessions(t: Extract<ClientTask, { scenario: "sessions" }>): Promise<ClientReport> {
  const prefix = randomUUID();
  const sockets = await openMany(t.urls, t.sessions, (i) => `s-${prefix}-${i}`);
  const ids = sockets.map(() => randomUUID());
  const streams = sockets.map((s, i) => follow(s, ids[i] as string, true));
  await checkpoint("measure");
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(sockets.map((s, i) => send(s, t.tokens, ids[i] as string)));
  const records = await Promise.all(streams);
  const seconds = (Math.max(...records.map((r) => r.endAt)) - started) / 1000;
  const clientCpuMs = cpuMsSince(cpu);
  await checkpoint("measured");
  closeAll(sockets);
  const delivered = records.reduce((sum, r) => sum + r.tokens, 0);
  return {
    tokens_per_s: delivered / seconds,
    gap_p99_ms: percentile(
      records.flatMap((r) => r.gaps),
      99,
    ),
    chunk_events: records.reduce((sum, r) => sum + r.chunkEvents, 0),
    intact: records.every((r) => r.seqOk && r.tokens === t.tokens) ? 1 : 0,
    client_cpu_ms: clientCpuMs,
  };
}

async function firstToken(
  t: Extract<ClientTask, { scenario: "first-token" }>,
): Promise<ClientReport> {
  const roundTrips: number[] = [];
  // A fresh session now and then keeps the conversation history (and its checkpoint) short.
  const perSession = 25;
  for (let done = 0; done < t.messages; done += perSession) {
    const socket = await open(t.urls[0] as string, `ft-${randomUUID()}`);
    for (let i = 0; i < Math.min(perSession, t.messages - done); i++) {
      const messageId = `ft-${randomUUID()}`;
      const firstChunk = new Promise<number>((resolve) => {
        const onChunk = (chunk: { message_id: string }) => {
          if (chunk.message_id !== messageId) return;
          socket.off("stream_chunk", onChunk);
          resolve(performance.now());
        };
        socket.on("stream_chunk", onChunk);
      });
      const ended = follow(socket, messageId, false);
      const started = performance.now();
      await send(socket, 1, messageId);
      roundTrips.push((await firstChunk) - started);
      await ended;
    }
    socket.close();
  }
  return {
    client_p50_ms: percentile(roundTrips, 50),
    client_p99_ms: percentile(roundTrips, 99),
  };
}

async function broadcast(t: Extract<ClientTask, { scenario: "broadcast" }>): Promise<ClientReport> {
  const sockets = await openMany(t.urls, t.connections);
  await Promise.all(
    sockets.map(async (s) => {
      const ack = (await s.emitWithAck("join_project", { project_id: "bench" })) as { ok: boolean };
      if (!ack.ok) throw new Error("join_project refused");
    }),
  );
  const latencies: number[] = [];
  let missing = 0;
  // Event 0 warms up the HTTP client and both servers' paths; it is not counted.
  for (let e = -1; e < t.events; e++) {
    const eventId = randomUUID();
    let received = 0;
    let sentAt = 0;
    const all = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      for (const s of sockets) {
        const listener = (event: { data: { event_id?: string } }) => {
          if (event.data.event_id !== eventId) return;
          s.off("project_message", listener);
          if (e >= 0) latencies.push(performance.now() - sentAt);
          if (++received === sockets.length) {
            clearTimeout(timer);
            resolve();
          }
        };
        s.on("project_message", listener);
      }
    });
    sentAt = performance.now();
    // The event enters through the first node; the other node gets it through Redis.
    const response = await fetch(`${t.urls[0]}/api/projects/bench/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.apiKey}` },
      body: JSON.stringify({ type: "project_message", data: { event_id: eventId } }),
    });
    if (response.status !== 202) throw new Error(`event refused: ${response.status}`);
    await all;
    if (e >= 0) missing += sockets.length - received;
    for (const s of sockets) s.off("project_message");
    await sleep(300);
  }
  closeAll(sockets);
  return {
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    missing,
  };
}

/**
 * One connection sending pings without acks at `perSec`, until the runner kills it: the abuse scenario's flooder, in a process of
 * its own so it does not slow the polite clients' side.
 */
async function flood(t: Extract<ClientTask, { scenario: "flood" }>): Promise<ClientReport> {
  const socket = await open(t.urls[0] as string);
  process.send?.({ type: "checkpoint", name: "flooding", figures: {} });
  const perTick = Math.max(1, Math.round(t.perSec / 100));
  for (;;) {
    const tick = performance.now();
    for (let i = 0; i < perTick; i++) socket.emit("ping");
    await sleep(Math.max(0, 10 - (performance.now() - tick)));
  }
}

const scenarios = {
  idle,
  ping,
  fanout,
  sessions,
  "first-token": firstToken,
  broadcast,
  flood,
} as const;

try {
  const run = scenarios[task.scenario] as (t: ClientTask) => Promise<ClientReport>;
  const figures = await run(task);
  process.send?.({ type: "done", figures });
} catch (error) {
  process.send?.({
    type: "failed",
    message: error instanceof Error ? error.message : String(error),
  });
}
// Sockets closing can linger: the runner has the figures, exit now.
setTimeout(() => process.exit(0), 100);
