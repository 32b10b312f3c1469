import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { connect, nextEvent, request, startGateway } from "./support/gateway.js";
import { collectStream, expectContiguous, joined } from "./support/streams.js";

const LONG = "Write a long story about mountains, rivers and the sea";

describe("run limits", function () {
  this.timeout(30_000);

  it("sends each chunk once to a connection however often it resumes a live stream", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "5" });
    const { socket } = await connect(server.url);
    const id = randomUUID();
    const stream = collectStream(socket, () => id);
    const first = nextEvent(socket, "stream_chunk");
    await request(socket, "message", { content: LONG, message_id: id });
    await first;
    // A hostile client: 20 resumes of the stream it already follows, from 0.
    const acks = await Promise.all(
      Array.from({ length: 20 }, () => request(socket, "resume", { message_id: id, after_seq: 0 })),
    );
    expect(acks.every((a) => a.ok)).to.equal(true);
    const { chunks, end } = await stream;
    expect(end.type).to.equal("stream_end");
    expect(expectContiguous(chunks)).to.equal(true);
    expect(end["total_content"]).to.equal(joined(chunks));
    socket.close();
    await server.close();
  });

  it("refuses runs past AGENT_MAX_QUEUED_PER_USER across sessions, counted per IP for anonymous clients", async () => {
    const server = await startGateway({
      DEMO_TOKEN_DELAY_MS: "20",
      AGENT_MAX_QUEUED_PER_USER: "3",
    });
    // Each in a session of its own, as a client that reconnects to fresh sessions would.
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(server.url)));
    const acks = [];
    for (const { socket } of clients)
      acks.push(await request(socket, "message", { content: LONG }));
    expect(acks.slice(0, 3).every((a) => a.ok)).to.equal(true);
    const refused = acks[3];
    expect(refused && !refused.ok && refused.error).to.deep.include({ code: "busy" });
    expect(refused && !refused.ok && refused.error.message).to.contain("3 agent runs");
    // A finished (here cancelled) run gives its place back.
    const cancelled = nextEvent(clients[0]!.socket, "cancelled");
    await request(clients[0]!.socket, "cancel", {});
    await cancelled;
    expect((await request(clients[3]!.socket, "message", { content: "hi" })).ok).to.equal(true);
    for (const { socket } of clients) socket.close();
    await server.close();
  });

  it("refuses new concurrent runs past AGENT_MAX_RUNS on the node, but queues in a running session", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "20", AGENT_MAX_RUNS: "2" });
    const [a, b, c] = await Promise.all(Array.from({ length: 3 }, () => connect(server.url)));
    expect((await request(a!.socket, "message", { content: LONG })).ok).to.equal(true);
    expect((await request(b!.socket, "message", { content: LONG })).ok).to.equal(true);
    const third = await request(c!.socket, "message", { content: LONG });
    expect(!third.ok && third.error.code).to.equal("busy");
    const queued = await request(a!.socket, "message", { content: "and then?" });
    expect(queued).to.deep.include({ ok: true });
    for (const client of [a, b, c]) client!.socket.close();
    await server.close();
  });
});
