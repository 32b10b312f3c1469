import type { Server } from "socket.io";
import type { ModelTiming } from "./bench-model.js";

/** Messages from the benchmark runner to a server process, and the answers. */
export type ServerCommand =
  | { cmd: "gc" }
  | { cmd: "memory" }
  | { cmd: "first-token" }
  | { cmd: "broadcast-times" }
  | { cmd: "stop" };

/** Reports the listening port to the runner and answers its commands. */
export function serveRunner(
  port: number,
  handlers: {
    firstToken?: () => unknown;
    broadcastTimes?: () => BroadcastTimes;
    stop: () => Promise<void>;
  },
): void {
  if (!process.send) throw new Error("start this file from the benchmark runner (needs IPC)");
  const reply = (data: unknown) => process.send?.({ type: "reply", data });
  process.on("message", (message: ServerCommand) => {
    switch (message.cmd) {
      case "gc":
        // Run with --expose-gc: memory figures are read after a full collection.
        (globalThis as { gc?: () => void }).gc?.();
        reply(null);
        return;
      case "memory":
        reply(process.memoryUsage());
        return;
      case "first-token":
        reply(handlers.firstToken?.() ?? []);
        return;
      case "broadcast-times":
        reply(handlers.broadcastTimes?.() ?? { published: {}, written: {} });
        return;
      case "stop":
        void handlers.stop().finally(() => process.exit(0));
        return;
    }
  });
  // The runner going away must not leave a server behind.
  process.on("disconnect", () => process.exit(0));
  process.send({ type: "ready", port });
}

export interface FirstTokenSample {
  /** Receipt of the `message` frame → the first stream_chunk handed to Socket.IO, minus the model's own time. */
  overheadMs: number;
  /** Receipt → the model being called. */
  beforeModelMs: number;
  /** The model's first token → the first stream_chunk handed to Socket.IO. */
  afterModelMs: number;
  /** The model's own call → first token time. */
  modelMs: number;
}

/**
 * Server-side first-token timing, the same on both servers: the engine's
 * "packet" event marks the receipt of a `message` frame (before Socket.IO
 * decodes it), and a wrapper around the adapter's broadcast marks the first
 * `stream_chunk` of that message leaving for its room. Only used when the
 * runner asks for the first-token scenario, so other scenarios pay nothing.
 */
export function instrumentFirstToken(
  io: Server,
  modelTimings: () => ModelTiming | undefined,
): () => FirstTokenSample[] {
  const received = new Map<string, number>();
  const samples: FirstTokenSample[] = [];
  io.on("connection", (socket) => {
    socket.conn.on("packet", (packet: { type: string; data?: unknown }) => {
      if (packet.type !== "message" || typeof packet.data !== "string") return;
      const id = /^2\d*\["message",.*"message_id":"([^"]+)"/.exec(packet.data)?.[1];
      if (id !== undefined) received.set(id, performance.now());
    });
  });
  const adapter = io.of("/").adapter;
  const broadcast = adapter.broadcast.bind(adapter);
  adapter.broadcast = (packet: { data?: unknown }, opts) => {
    const [type, payload] = packet.data as [string, { message_id?: string; seq?: number }];
    if (type === "stream_chunk" && payload.seq === 1 && payload.message_id !== undefined) {
      const emittedAt = performance.now();
      const receivedAt = received.get(payload.message_id);
      received.delete(payload.message_id);
      const timing = modelTimings();
      if (receivedAt !== undefined) {
        const modelMs = timing ? timing.firstTokenAt - timing.calledAt : 0;
        samples.push({
          overheadMs: emittedAt - receivedAt - modelMs,
          beforeModelMs: timing ? timing.calledAt - receivedAt : 0,
          afterModelMs: timing ? emittedAt - timing.firstTokenAt : emittedAt - receivedAt,
          modelMs,
        });
      }
    }
    broadcast(packet as Parameters<typeof broadcast>[0], opts);
  };
  return () => samples.splice(0);
}

/**
 * When this node handled each bench project event, by its `event_id`, in ms
 * on the machine's clock (performance.timeOrigin + now(): comparable between
 * processes of one machine, to well under a millisecond).
 */
export interface BroadcastTimes {
  /** The event was handed to the adapter on this node (the node that published it). */
  published: Record<string, number>;
  /** This node finished writing the event's frame to its last local member. */
  written: Record<string, number>;
}

interface BroadcastInternals {
  broadcast(packet: { data?: unknown[] }, opts: unknown): unknown;
  _encode(packet: { data?: unknown[] }, packetOpts: object): unknown;
  apply(opts: unknown, callback: (socket: unknown) => void): void;
}

const clock = () => performance.timeOrigin + performance.now();
const eventIdOf = (packet: { data?: unknown[] } | undefined): string | undefined => {
  const [type, payload] = packet?.data ?? [];
  if (type !== "project_message") return undefined;
  const id = (payload as { data?: { event_id?: unknown } } | undefined)?.data?.event_id;
  return typeof id === "string" ? id : undefined;
};

/**
 * Server-side fan-out timing for the broadcast scenario. `broadcast` on the
 * adapter instance is the local emit (the node that publishes); `_encode`
 * then `apply` run for every broadcast, local or from a peer, and `apply`
 * writes the frame to each member in turn (src/transports/socketio/bus.ts
 * wraps the same two, after which it serves the plain WebSocket members):
 * its return is the last frame written on this node. Installed after the
 * gateway is built, so it wraps the bus's wrappers and counts them in.
 */
export function instrumentBroadcast(io: Server): () => BroadcastTimes {
  const adapter = io.of("/").adapter as unknown as BroadcastInternals;
  const times: BroadcastTimes = { published: {}, written: {} };
  const broadcast = adapter.broadcast.bind(adapter);
  adapter.broadcast = (packet, opts) => {
    const id = eventIdOf(packet);
    if (id !== undefined) times.published[id] = clock();
    return broadcast(packet, opts);
  };
  const encode = adapter._encode.bind(adapter);
  const apply = adapter.apply.bind(adapter);
  let pending: { data?: unknown[] } | undefined;
  adapter._encode = (packet, packetOpts) => {
    pending = packet;
    return encode(packet, packetOpts);
  };
  adapter.apply = (opts, callback) => {
    const id = eventIdOf(pending);
    pending = undefined;
    apply(opts, callback);
    if (id !== undefined) times.written[id] = clock();
  };
  return () => {
    const taken = times.published;
    const written = times.written;
    times.published = {};
    times.written = {};
    return { published: taken, written };
  };
}
