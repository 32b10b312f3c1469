/**
 * The baseline: a bare Socket.IO server of the same version doing the same
 * jobs as the gateway in each scenario, and nothing else: the `connected`
 * greeting, an acked `ping` echo with its `pong`, and for `message` the same
 * stream events (stream_start, one stream_chunk per token, stream_end) to the
 * sender's session room, produced by an async generator like a model's.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { BENCH_TOKEN } from "./bench-model.js";
import { instrumentFirstToken, serveRunner } from "./server-ipc.js";

const httpServer = createServer();
const io = new Server(httpServer);
const event = <T extends object>(type: string, data: T) => ({
  type,
  timestamp: Date.now() / 1000,
  ...data,
});

async function* tokens(count: number): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) {
    // A model's tokens come from I/O: let the event loop breathe now and then, as the gateway's path does.
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    yield BENCH_TOKEN;
  }
}

io.on("connection", (socket) => {
  const auth = socket.handshake.auth as { session_id?: string };
  const sessionId = auth.session_id ?? socket.id;
  const room = `session:${sessionId}`;
  void socket.join(room);
  socket.emit("connected", event("connected", { connection_id: socket.id, session_id: sessionId }));
  socket.on("ping", (_payload: unknown, ack?: (r: unknown) => void) => {
    socket.emit("pong", event("pong", {}));
    ack?.({ ok: true, data: {} });
  });
  socket.on(
    "message",
    (payload: { content: string; message_id: string }, ack?: (r: unknown) => void) => {
      const messageId = payload.message_id;
      ack?.({ ok: true, data: { message_id: messageId, queue_position: 0 } });
      const count = Number(/^bench:(\d+)$/.exec(payload.content)?.[1] ?? 1);
      void (async () => {
        const to = io.to(room);
        to.emit(
          "stream_start",
          event("stream_start", { message_id: messageId, session_id: sessionId, kind: "chat" }),
        );
        let seq = 0;
        let content = "";
        for await (const token of tokens(count)) {
          content += token;
          to.emit(
            "stream_chunk",
            event("stream_chunk", {
              message_id: messageId,
              seq: ++seq,
              content: token,
              agent: "agent",
            }),
          );
        }
        to.emit(
          "stream_end",
          event("stream_end", { message_id: messageId, total_content: content }),
        );
      })();
    },
  );
});

const firstToken =
  process.env["BENCH_FIRST_TOKEN"] === "1" ? instrumentFirstToken(io, () => undefined) : undefined;
httpServer.listen(0, "127.0.0.1", () => {
  const { port } = httpServer.address() as AddressInfo;
  serveRunner(port, {
    firstToken,
    stop: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  });
});
