/**
 * The soak: hostile events of every kind, floods and clients that stop
 * reading, against a real gateway process on loopback, for a bounded number
 * of events. It reports what must hold under abuse: no crash, every event
 * with an ack answered or its connection closed with a reason, and a polite
 * client still served.
 */
import { io, type Socket } from "socket.io-client";
import { connectRaw } from "../test/support/raw-engine.js";
import { benchPrompt } from "./bench-model.js";
import { startServer } from "./processes.js";
import { rssBytes } from "./proc-stats.js";
import { percentile, sleep } from "./stats.js";

export interface SoakOptions {
  events: number;
  /** Hostile connections sending at once. */
  workers: number;
  /** Connections that flood at line rate until they are cut off. */
  floods: number;
  /** Raw clients that ask for a long answer and stop reading. */
  slowConsumers: number;
}

export interface SoakReport {
  events_sent: number;
  acks_expected: number;
  acks_answered: number;
  /** Acks never answered on a connection that stayed open: must be 0. */
  unanswered: number;
  /** Acks pending when the server closed their connection, by the client's disconnect reason. */
  cut_with_acks_pending: number;
  refusals_by_code: Record<string, number>;
  disconnects_by_reason: Record<string, number>;
  crashes: number;
  rss_before_mb: number;
  rss_after_mb: number;
  polite_pings: number;
  polite_failures: number;
  polite_p99_ms: number;
  polite_served_after: boolean;
  seconds: number;
}

/** Deliberately tight limits, so that every refusal path runs often. */
export const SOAK_ENV: Record<string, string> = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "error",
  WS_MAX_MESSAGE_BYTES: "16384",
  WS_MAX_FRAME_BYTES: "65536",
  WS_RATE_LIMIT_PER_SEC: "500",
  // Every soak client is anonymous on 127.0.0.1: the person budget would refuse everything.
  WS_RATE_LIMIT_PER_USER_PER_SEC: "1000000",
  WS_RATE_LIMIT_PER_SESSION_PER_SEC: "1000000",
  WS_RATE_LIMIT_DISCONNECT_AFTER: "1",
  WS_MAX_BUFFERED_BYTES: String(1024 * 1024),
  // A frame per token: the most output a non-reading client can be sent per token.
  WS_STREAM_COALESCE_MAX_CHARS: "1",
  // Tokens arrive a few at a time, as from a model server, not in one synchronous burst.
  BENCH_YIELD_EVERY: "50",
};

type Hostile = { type: string; payload: unknown; ack: boolean };

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}

const DEEP = nested(2000);
const HUGE = "a".repeat(20_000);
const ATTACHMENTS = [1, 2].map(() => Buffer.alloc(9000, 1));
const OVER_FRAME_CAP = [1, 2, 3].map(() => Buffer.alloc(30_000, 1));

/** The i-th hostile event: every kind in turn, the rare connection-closing one every 500th. */
function hostile(i: number): Hostile {
  if (i % 500 === 499) return { type: "message", payload: { files: OVER_FRAME_CAP }, ack: true };
  const kinds: Hostile[] = [
    { type: `no_such_${"x".repeat(200)}${i}`, payload: {}, ack: true },
    { type: "message", payload: { content: 42 }, ack: true },
    { type: "message", payload: { content: HUGE }, ack: true },
    { type: "message", payload: { content: "hi", metadata: { deep: DEEP } }, ack: true },
    { type: "message", payload: { content: "hi", files: ATTACHMENTS }, ack: true },
    { type: "start_conversation", payload: { participants: Array(3000).fill(1) }, ack: true },
    { type: "resume", payload: { message_id: `m${i}`, after_seq: -1 }, ack: true },
    { type: "cancel", payload: "not an object", ack: true },
    { type: "nope", payload: { a: 1 }, ack: false },
    { type: "join_project", payload: { project_id: 7 }, ack: false },
    { type: "ping", payload: undefined, ack: false },
  ];
  return kinds[i % kinds.length] as Hostile;
}

function connectClient(url: string): Promise<Socket> {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once("connected", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const server = await startServer("gateway-server.ts", SOAK_ENV);
  const count = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
  const refusals: Record<string, number> = {};
  const disconnects: Record<string, number> = {};
  let sent = 0;
  let expected = 0;
  let answered = 0;
  let cutWithPending = 0;
  let unanswered = 0;

  try {
    await server.command("gc");
    const rssBefore = rssBytes(server.pid);
    const polite = await connectClient(server.url);
    const latencies: number[] = [];
    let politeFailures = 0;
    let running = true;
    const politeLoop = (async () => {
      while (running) {
        const t0 = performance.now();
        const ack = (await polite
          .timeout(10_000)
          .emitWithAck("ping", {})
          .catch(() => null)) as {
          ok: boolean;
        } | null;
        latencies.push(performance.now() - t0);
        if (!ack?.ok) politeFailures += 1;
        await sleep(20);
      }
    })();

    /** One hostile connection after another, until the shared budget of events is spent. */
    const worker = async () => {
      while (sent < options.events) {
        const socket = await connectClient(server.url);
        const pending = new Set<number>();
        const closed = new Promise<string>((resolve) => socket.once("disconnect", resolve));
        let open = true;
        let closing = false;
        void closed.then((reason) => {
          open = false;
          if (closing) return;
          count(disconnects, reason);
          cutWithPending += pending.size;
        });
        while (open && sent < options.events) {
          const event = hostile(sent);
          const id = sent;
          sent += 1;
          if (!event.ack) {
            socket.emit(event.type, event.payload);
            continue;
          }
          expected += 1;
          pending.add(id);
          const reply = new Promise<void>((resolve) =>
            socket.emit(
              event.type,
              event.payload,
              (ack: { ok: boolean; error?: { code: string } }) => {
                pending.delete(id);
                answered += 1;
                if (!ack.ok && ack.error) count(refusals, ack.error.code);
                resolve();
              },
            ),
          );
          await Promise.race([reply, closed]);
        }
        if (open) {
          closing = true;
          // Whatever is still pending on an open connection gets a last chance, then counts as unanswered.
          await Promise.race([closed, waitUntil(() => pending.size === 0, 10_000)]);
          if (open) unanswered += pending.size;
          socket.close();
        }
      }
    };

    const flood = async () => {
      const socket = await connectClient(server.url);
      const closed = new Promise<string>((resolve) => socket.once("disconnect", resolve));
      let open = true;
      void closed.then((reason) => {
        open = false;
        count(disconnects, `flood: ${reason}`);
      });
      while (open) {
        for (let i = 0; i < 500; i += 1) socket.emit("ping");
        await new Promise((resolve) => setImmediate(resolve));
      }
    };

    let slowCount = 0;
    const slowConsumer = async () => {
      const raw = await connectRaw(server.url);
      raw.stopReading();
      const messageId = `slow-${(slowCount += 1)}`;
      raw.emit("message", { content: benchPrompt(50_000), message_id: messageId });
      await sleep(200); // the stream exists once its run has started
      // Each resume adds a reader of the whole stream, and this client reads none of it.
      for (let i = 0; i < 20; i += 1) raw.emit("resume", { message_id: messageId, after_seq: 0 });
      // Still not reading, it keeps writing: once the server has cut it off, a write fails and the close shows.
      let closed = false;
      void raw.closed.then(() => (closed = true));
      const deadline = performance.now() + 30_000;
      while (!closed && performance.now() < deadline) {
        raw.emit("ping", {});
        await sleep(200);
      }
      count(
        disconnects,
        closed ? "slow consumer: closed by the server" : "slow consumer: still open",
      );
      raw.close();
    };

    await Promise.all([
      ...Array.from({ length: options.workers }, worker),
      ...Array.from({ length: options.floods }, flood),
      ...Array.from({ length: options.slowConsumers }, slowConsumer),
    ]);
    running = false;
    await politeLoop;
    const servedAfter = (await polite
      .timeout(10_000)
      .emitWithAck("ping", {})
      .catch(() => null)) as {
      ok: boolean;
    } | null;
    polite.close();
    await server.command("gc");
    const rssAfter = rssBytes(server.pid);
    return {
      events_sent: sent,
      acks_expected: expected,
      acks_answered: answered,
      unanswered,
      cut_with_acks_pending: cutWithPending,
      refusals_by_code: refusals,
      disconnects_by_reason: disconnects,
      crashes: server.exitCode() === null ? 0 : 1,
      rss_before_mb: round(rssBefore / 2 ** 20),
      rss_after_mb: round(rssAfter / 2 ** 20),
      polite_pings: latencies.length,
      polite_failures: politeFailures,
      polite_p99_ms: round(percentile(latencies, 99)),
      polite_served_after: servedAfter?.ok === true,
      seconds: round((performance.now() - started) / 1000),
    };
  } finally {
    await server.stop();
  }
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition()) && performance.now() < deadline) await sleep(20);
}

const round = (n: number) => Math.round(n * 10) / 10;
