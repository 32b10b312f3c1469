import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import {
  connect,
  nextEvent,
  recordEvents,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { connectAs, TRANSPORTS, type TestClient } from "./support/clients.js";
import { collectStream, expectContiguous, joined } from "./support/streams.js";
import { waitFor } from "./support/wait-for.js";

/**
 * Sends a message with a client-chosen id and collects its stream. (Events
 * that share a network read arrive before an awaited ack's continuation runs,
 * so a filter must know the id before sending.)
 */
async function ask(socket: TestClient, content: string, id: string = randomUUID()) {
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, "message", { content, message_id: id });
  if (!ack.ok) throw new Error(`message refused: ${ack.error.code}`);
  return { id, ack, stream };
}

for (const transport of TRANSPORTS) {
  describe(`agent streaming over ${transport}`, function () {
    this.timeout(30000);
    let server: RunningGateway;
    before(async () => {
      server = await startGateway({ DEMO_TOKEN_DELAY_MS: "5" });
    });
    after(() => server.close());

    it("streams ordered chunks whose concatenation is total_content", async () => {
      const { socket } = await connectAs(transport, server.url);
      const { stream } = await ask(socket, "Tell me about rivers");
      const { chunks, end } = await stream;
      expect(end.type).to.equal("stream_end");
      expect(chunks.length).to.be.greaterThan(5);
      expect(expectContiguous(chunks)).to.equal(true);
      expect(end["total_content"]).to.equal(joined(chunks));
      expect(end["total_content"]).to.match(/rivers/i);
      expect(chunks.every((c) => c.agent === "agent")).to.equal(true);
      socket.close();
    });

    it("makes a message_id when the client sends none, and acks it before the first chunk", async () => {
      const { socket } = await connectAs(transport, server.url);
      const order: string[] = [];
      socket.onAny((type: string) => order.push(type));
      const acked = new Promise<{ ok: boolean; data: { message_id: string } }>((resolve) =>
        socket.emit(
          "message",
          { content: "Tell me about lakes" },
          (ack: { ok: boolean; data: { message_id: string } }) => {
            order.push("ack");
            resolve(ack);
          },
        ),
      );
      const end = nextEvent<{ message_id: string }>(socket, "stream_end");
      const ack = await acked;
      expect(ack.data.message_id).to.match(/^[0-9a-f-]{36}$/);
      expect((await end).message_id).to.equal(ack.data.message_id);
      expect(order.indexOf("ack")).to.be.lessThan(order.indexOf("stream_chunk"));
      socket.close();
    });

    it("answers arithmetic through a real calculator tool call", async () => {
      const { socket } = await connectAs(transport, server.url);
      const toolStart = nextEvent<{ tool_name: string; input: unknown }>(socket, "tool_start");
      const toolResult = nextEvent<{ tool_name: string; result: unknown }>(socket, "tool_result");
      const { stream } = await ask(socket, "what is 12 * (3 + 4)?");
      expect(await toolStart).to.deep.include({
        tool_name: "calculator",
        input: { expression: "12 * (3 + 4)" },
      });
      expect(await toolResult).to.deep.include({ tool_name: "calculator", result: 84 });
      const { end } = await stream;
      expect(end["total_content"]).to.include("84");
      socket.close();
    });

    it("remembers the conversation of a session across messages and connections", async () => {
      const first = await connectAs(transport, server.url);
      await (
        await ask(first.socket, "My favourite colour is teal")
      ).stream;
      first.socket.close();
      const second = await connectAs(transport, server.url, {
        session_id: first.connected.session_id,
      });
      const { end } = await (await ask(second.socket, "what did I say before?")).stream;
      expect(end["total_content"]).to.include("My favourite colour is teal");
      second.socket.close();
    });

    it("reports graph progress and the demo vendor through agent_query", async () => {
      const { socket } = await connectAs(transport, server.url);
      const events = recordEvents(socket);
      const response = nextEvent<{ content: string; vendor: string; message_id: string }>(
        socket,
        "agent_response",
      );
      const ack = await request(socket, "agent_query", { query: "Describe a lighthouse" });
      const answer = await response;
      expect(answer.message_id).to.equal((ack as { data: { message_id: string } }).data.message_id);
      expect(answer.vendor).to.equal("demo");
      expect(answer.content).to.match(/lighthouse/i);
      expect(events.map((e) => e.type)).to.include("status");
      expect(events.map((e) => e.type)).not.to.include("stream_chunk");
      socket.close();
    });

    it("sends progress_update with stage, completed and total while the graph runs", async () => {
      const { socket } = await connectAs(transport, server.url);
      const events = recordEvents(socket);
      await (
        await ask(socket, "what is 2 + 2?")
      ).stream;
      const stages = events
        .filter((e) => e.type === "progress_update")
        .map((e) => e.payload["data"]);
      expect(stages).to.deep.equal([
        { stage: "agent", completed: 0, total: 1 },
        { stage: "tools", completed: 1, total: 2 },
        { stage: "agent", completed: 2, total: 3 },
        { stage: "done", completed: 3, total: 3 },
      ]);
      socket.close();
    });

    it("cancels mid-stream: cancelled carries the partial content and no chunk follows", async () => {
      const { socket } = await connectAs(transport, server.url);
      const events = recordEvents(socket);
      const { id, stream } = await ask(socket, "Write about the history of bridges in detail");
      await nextEvent(socket, "stream_chunk");
      expect(await request(socket, "cancel", {})).to.deep.equal({
        ok: true,
        data: { message_id: id },
      });
      const { chunks, end } = await stream;
      expect(end.type).to.equal("cancelled");
      expect(end["partial_content"]).to.equal(joined(chunks));
      // A ping round trip after the cancel: anything the run still sent would have arrived before the pong.
      await request(socket, "ping", {});
      const after = events.slice(events.findIndex((e) => e.type === "cancelled") + 1);
      expect(
        after.filter((e) => e.type === "stream_chunk" || e.type === "stream_end"),
      ).to.deep.equal([]);
      socket.close();
    });

    it("answers not_found when there is nothing to cancel, and stream_expired for an unknown stream", async () => {
      const { socket } = await connectAs(transport, server.url);
      const cancel = await request(socket, "cancel", {});
      expect(cancel.ok).to.equal(false);
      expect(!cancel.ok && cancel.error.code).to.equal("not_found");
      const resume = await request(socket, "resume", { message_id: "never-sent", after_seq: 0 });
      expect(!resume.ok && resume.error.code).to.equal("stream_expired");
      socket.close();
    });

    it("shows every client of a session the same events in the same order", async () => {
      const a = await connectAs(transport, server.url);
      const b = await connectAs(transport, server.url, { session_id: a.connected.session_id });
      const eventsA = recordEvents(a.socket);
      const eventsB = recordEvents(b.socket);
      const endB = nextEvent(b.socket, "stream_end");
      await (
        await ask(a.socket, "what is 6 * 7?")
      ).stream;
      await endB;
      expect(eventsB.map((e) => e.payload)).to.deep.equal(eventsA.map((e) => e.payload));
      expect(eventsA.length).to.be.greaterThan(5);
      a.socket.close();
      b.socket.close();
    });

    it("resumes after a dropped connection with no gap and no duplicate", async () => {
      const first = await connectAs(transport, server.url);
      const seen: Array<{ seq: number; content: string }> = [];
      const threeChunks = new Promise<void>((resolve) => {
        first.socket.on("stream_chunk", (chunk: { seq: number; content: string }) => {
          seen.push(chunk);
          if (seen.length === 3) resolve();
        });
      });
      const { id } = await ask(first.socket, "Explain how glaciers move, step by step");
      await threeChunks;
      first.socket.disconnect();
      const lastSeq = seen.at(-1)?.seq ?? 0;

      const second = await connectAs(transport, server.url, {
        session_id: first.connected.session_id,
      });
      const rest = collectStream(second.socket, () => id);
      expect(
        await request(second.socket, "resume", { message_id: id, after_seq: lastSeq }),
      ).to.deep.equal({
        ok: true,
        data: { message_id: id },
      });
      const { chunks, end } = await rest;
      expect(end.type).to.equal("stream_end");
      const all = [...seen.slice(0, 3), ...chunks] as Array<{ seq: number; content: string }>;
      expect(all.map((c) => c.seq)).to.deep.equal(all.map((_, i) => i + 1));
      expect(all.map((c) => c.content).join("")).to.equal(end["total_content"]);
      second.socket.close();
    });

    it("lets a client that joins mid-run catch up from seq 0, and replays a finished stream", async () => {
      const a = await connectAs(transport, server.url);
      const { id, stream } = await ask(a.socket, "Describe the water cycle");
      await nextEvent(a.socket, "stream_chunk");
      const late = await connectAs(transport, server.url, { session_id: a.connected.session_id });
      const lateStream = collectStream(late.socket, () => id);
      await request(late.socket, "resume", { message_id: id, after_seq: 0 });
      const [original, caughtUp] = await Promise.all([stream, lateStream]);
      expect(caughtUp.chunks).to.deep.equal(original.chunks);
      expect(caughtUp.end["total_content"]).to.equal(original.end["total_content"]);

      const replay = collectStream(late.socket, () => id);
      await request(late.socket, "resume", { message_id: id, after_seq: 2 });
      const replayed = await replay;
      expect(replayed.chunks).to.deep.equal(original.chunks.slice(2));
      expect(replayed.end.type).to.equal("stream_end");
      a.socket.close();
      late.socket.close();
    });

    it("keeps streams to their session, even when two sessions pick the same message_id", async () => {
      const alice = await connectAs(transport, server.url);
      const mallory = await connectAs(transport, server.url);
      const aliceStream = ask(alice.socket, "Tell me about my secret garden", "same-id");
      await nextEvent(alice.socket, "stream_chunk");
      const peek = await request(mallory.socket, "resume", { message_id: "same-id", after_seq: 0 });
      expect(!peek.ok && peek.error.code).to.equal("stream_expired");
      const malloryRun = await ask(mallory.socket, "Tell me about ducks", "same-id");
      const [a, m] = await Promise.all([(await aliceStream).stream, malloryRun.stream]);
      expect(a.end["total_content"]).to.match(/garden/);
      expect(a.end["total_content"]).to.equal(joined(a.chunks));
      expect(m.end["total_content"]).to.match(/ducks/);
      expect(m.end["total_content"]).not.to.match(/garden/);
      const replay = collectStream(alice.socket, () => "same-id");
      await request(alice.socket, "resume", { message_id: "same-id", after_seq: 0 });
      expect((await replay).end["total_content"]).to.equal(a.end["total_content"]);
      alice.socket.close();
      mallory.socket.close();
    });

    it("runs a discussion: three agents take turns with speaker changes", async () => {
      const { socket } = await connectAs(transport, server.url);
      const events = recordEvents(socket);
      const stream = collectStream(socket, () => "discussion");
      const ack = await request(socket, "start_conversation", {
        topic: "city gardens",
        rounds: 2,
        message_id: "discussion",
      });
      expect(ack).to.deep.equal({
        ok: true,
        data: { message_id: "discussion", queue_position: 0 },
      });
      const { chunks, end } = await stream;
      const changes = events.filter((e) => e.type === "speaker_change").map((e) => e.payload);
      expect(changes.map((c) => [c["agent"], c["round"]])).to.deep.equal([
        ["optimist", 1],
        ["skeptic", 1],
        ["pragmatist", 1],
        ["optimist", 2],
        ["skeptic", 2],
        ["pragmatist", 2],
      ]);
      // Every chunk is labelled with the agent that spoke last.
      let speaker = "";
      for (const event of events) {
        if (event.type === "speaker_change") speaker = String(event.payload["agent"]);
        if (event.type === "stream_chunk") expect(event.payload["agent"]).to.equal(speaker);
      }
      const textBy = (agent: string) => joined(chunks.filter((c) => c.agent === agent));
      expect(new Set([textBy("optimist"), textBy("skeptic"), textBy("pragmatist")]).size).to.equal(
        3,
      );
      expect(end["total_content"]).to.equal(joined(chunks));
      expect(end["total_content"]).to.include("city gardens");
      socket.close();
    });

    it("refuses an invalid discussion request with the validator's details", async () => {
      const { socket } = await connectAs(transport, server.url);
      const ack = await request(socket, "start_conversation", {
        topic: "x",
        participants: [{ name: "solo" }],
      });
      expect(!ack.ok && ack.error.code).to.equal("invalid_payload");
      expect(!ack.ok && ack.error.details)
        .to.be.an("array")
        .with.length.greaterThan(0);
      socket.close();
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`multitask policies over ${transport}`, function () {
    this.timeout(30000);

    async function twoMessages(policy: string) {
      const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "5", AGENT_MULTITASK: policy });
      const { socket } = await connectAs(transport, server.url);
      const events = recordEvents(socket);
      const first = await ask(socket, "Tell me about owls");
      await nextEvent(socket, "stream_chunk");
      let secondAck;
      let second;
      try {
        second = await ask(socket, "Tell me about foxes");
        secondAck = second.ack;
      } catch (error) {
        secondAck = error;
      }
      return { server, socket, events, first, second, secondAck };
    }

    it("enqueue: the second message runs after the first, in order", async () => {
      const { server, socket, events, first, second } = await twoMessages("enqueue");
      expect(second?.ack).to.deep.include({ ok: true });
      expect((second?.ack as { data: { queue_position: number } }).data.queue_position).to.equal(1);
      const [a, b] = await Promise.all([first.stream, second!.stream]);
      expect([a.end.type, b.end.type]).to.deep.equal(["stream_end", "stream_end"]);
      const starts = events
        .filter((e) => e.type === "stream_start" || e.type === "stream_end")
        .map((e) => [e.type, e.payload["message_id"]]);
      expect(starts).to.deep.equal([
        ["stream_start", first.id],
        ["stream_end", first.id],
        ["stream_start", second!.id],
        ["stream_end", second!.id],
      ]);
      socket.close();
      await server.close();
    });

    it("reject: a second message while one runs is refused as busy", async () => {
      const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "5", AGENT_MULTITASK: "reject" });
      const { socket } = await connectAs(transport, server.url);
      const first = await ask(socket, "Tell me about owls");
      const refused = await request(socket, "message", { content: "Tell me about foxes" });
      expect(!refused.ok && refused.error.code).to.equal("busy");
      expect((await first.stream).end.type).to.equal("stream_end");
      socket.close();
      await server.close();
    });

    it("interrupt: the running message is cancelled and the new one completes", async () => {
      const { server, socket, first, second } = await twoMessages("interrupt");
      const [a, b] = await Promise.all([first.stream, second!.stream]);
      expect(a.end.type).to.equal("cancelled");
      expect(b.end.type).to.equal("stream_end");
      expect(b.end["total_content"]).to.match(/foxes/i);
      socket.close();
      await server.close();
    });
  });
}

describe("run failures", function () {
  this.timeout(30000);

  it("ends a run that exceeds AGENT_RUN_TIMEOUT with a timeout error, keeping the connection", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "50", AGENT_RUN_TIMEOUT: "0.3" });
    const { socket } = await connect(server.url);
    const { id, stream } = await ask(socket, "Write a long story about the sea");
    const { end } = await stream;
    expect(end).to.deep.include({ type: "error", code: "timeout", message_id: id });
    expect(socket.connected).to.equal(true);
    expect((await request(socket, "ping", {})).ok).to.equal(true);
    socket.close();
    await server.close();
  });

  it("cancels the run when the last client leaves, with AGENT_CANCEL_ON_DISCONNECT=true", async () => {
    const server = await startGateway({
      DEMO_TOKEN_DELAY_MS: "20",
      AGENT_CANCEL_ON_DISCONNECT: "true",
      API_KEY: "streaming-test-api-key-0123",
    });
    const first = await connect(server.url);
    const { id } = await ask(first.socket, "Write a long story about mountains");
    await nextEvent(first.socket, "stream_chunk");
    first.socket.disconnect();
    // Nobody is left in the session to see the cancel happen, so watch the run registry.
    await waitFor(async () => {
      const res = await fetch(`${server.url}/api/sessions/${first.connected.session_id}`, {
        headers: { authorization: "Bearer streaming-test-api-key-0123" },
      });
      return res.status === 404;
    });
    const again = await connect(server.url, { session_id: first.connected.session_id });
    const replay = collectStream(again.socket, () => id);
    await request(again.socket, "resume", { message_id: id, after_seq: 0 });
    expect((await replay).end).to.deep.include({
      type: "cancelled",
      reason: "the last client disconnected",
    });
    again.socket.close();
    await server.close();
  });
});

describe("agent failures", function () {
  this.timeout(30000);

  it("turns a failing model into an agent_error for the session, and keeps serving it", async () => {
    // A real OpenAI-compatible endpoint that refuses every request, as a misconfigured model server would.
    const upstream = createServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { message: "model not loaded", type: "invalid_request_error" } }),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const { port } = upstream.address() as AddressInfo;
    const server = await startGateway({
      AGENT_MODEL: "openai:broken",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LOG_LEVEL: "error",
    });
    const { socket } = await connect(server.url);
    const { id, stream } = await ask(socket, "hello?");
    const { end } = await stream;
    expect(end).to.deep.include({ type: "error", code: "agent_error", message_id: id });
    expect(String(end["message"])).to.include("model not loaded");
    expect(socket.connected).to.equal(true);
    expect((await request(socket, "ping", {})).ok).to.equal(true);
    socket.close();
    await server.close();
    upstream.close();
  });
});
