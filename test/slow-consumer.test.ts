import { expect } from "chai";
import type { Socket as ServerSocket } from "socket.io";
import { BenchChatModel, benchPrompt } from "../bench/bench-model.js";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { connectRaw } from "./support/raw-engine.js";

/** Long enough to fill the loopback kernel buffers several times over. */
const ANSWER_TOKENS = 60_000;

describe("a client that stops reading", function () {
  // 60,000 tokens take a while on a loaded 2-core CI machine: a guard, not a speed target.
  this.timeout(60_000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway(
      {
        WS_MAX_BUFFERED_BYTES: String(1024 * 1024),
        AGENT_STREAM_RETENTION: "60",
        // A frame per token: the most output per token a client can be sent.
        WS_STREAM_COALESCE_MAX_CHARS: "1",
      },
      // A model fed by the network hands tokens over a few at a time, not in one synchronous burst.
      { agentModel: { model: new BenchChatModel(50), vendor: "demo" } },
    );
  });
  after(() => server.close());

  function serverSide(connectionId: string): ServerSocket {
    const socket = server.gateway.io.sockets.sockets.get(connectionId);
    if (!socket) throw new Error(`no server socket ${connectionId}`);
    return socket;
  }

  function disconnectOf(socket: ServerSocket): Promise<string> {
    return new Promise((resolve) => socket.once("disconnect", resolve));
  }

  it("is closed once its pending output passes WS_MAX_BUFFERED_BYTES, while its session streams on", async () => {
    const reader = await connect(server.url);
    const sessionId = reader.connected.session_id;
    const slow = await connectRaw(server.url, { session_id: sessionId });
    const cutOff = disconnectOf(serverSide(slow.connected.connection_id));
    slow.stopReading();

    const end = nextEvent<{ total_content: string }>(reader.socket, "stream_end");
    const ack = await request(reader.socket, "message", { content: benchPrompt(ANSWER_TOKENS) });
    expect(ack.ok).to.equal(true);
    expect(await cutOff).to.be.a("string");
    expect((await end).total_content.length).to.equal(ANSWER_TOKENS * 4);
    expect(server.gateway.io.sockets.sockets.has(slow.connected.connection_id)).to.equal(false);
    slow.close();
    reader.socket.close();
  });

  it("bounds a flood of resume requests from a client that does not read", async () => {
    const reader = await connect(server.url);
    const end = nextEvent(reader.socket, "stream_end");
    // Each resume replays the whole history: 40 of them are 40 times this answer.
    const ack = await request(reader.socket, "message", { content: benchPrompt(10_000) });
    const messageId = ack.ok ? (ack.data as { message_id: string }).message_id : "";
    await end;

    const slow = await connectRaw(server.url, { session_id: reader.connected.session_id });
    const cutOff = disconnectOf(serverSide(slow.connected.connection_id));
    slow.stopReading();
    for (let i = 0; i < 40; i += 1) slow.emit("resume", { message_id: messageId, after_seq: 0 });
    expect(await cutOff).to.be.a("string");
    expect((await request(reader.socket, "ping", {})).ok).to.equal(true);
    slow.close();
    reader.socket.close();
  });
});
