import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import { BENCH_TOKEN, BenchChatModel, benchPrompt } from "../bench/bench-model.js";
import { connect, request, startGateway, type RunningGateway } from "./support/gateway.js";
import { collectStream, expectContiguous, joined, type StreamOutcome } from "./support/streams.js";

const QUESTION = "Explain how glaciers move, step by step";

async function ask(
  socket: ClientSocket,
  content: string,
): Promise<{ id: string; outcome: StreamOutcome }> {
  const id = randomUUID();
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, "message", { content, message_id: id });
  if (!ack.ok) throw new Error(`message refused: ${ack.error.code}`);
  return { id, outcome: await stream };
}

describe("stream chunk coalescing (WS_STREAM_COALESCE_MS)", function () {
  this.timeout(30000);
  let plain: RunningGateway;
  let coalescing: RunningGateway;
  before(async () => {
    // Tokens 2 ms apart and a 25 ms window: several tokens per chunk, on a slow machine too.
    plain = await startGateway({ DEMO_TOKEN_DELAY_MS: "2" });
    coalescing = await startGateway({ DEMO_TOKEN_DELAY_MS: "2", WS_STREAM_COALESCE_MS: "25" });
  });
  after(async () => {
    await plain.close();
    await coalescing.close();
  });

  it("sends fewer chunk events with contiguous seq and the same total_content", async () => {
    const a = await connect(plain.url);
    const b = await connect(coalescing.url);
    const [one, many] = await Promise.all([ask(a.socket, QUESTION), ask(b.socket, QUESTION)]);
    expect(many.outcome.end.type).to.equal("stream_end");
    expect(many.outcome.end["total_content"]).to.equal(one.outcome.end["total_content"]);
    expect(joined(many.outcome.chunks)).to.equal(many.outcome.end["total_content"]);
    expect(expectContiguous(many.outcome.chunks)).to.equal(true);
    expect(many.outcome.chunks.length).to.be.greaterThan(0);
    expect(many.outcome.chunks.length).to.be.lessThan(one.outcome.chunks.length);
    a.socket.close();
    b.socket.close();
  });

  it("replays exactly the coalesced chunks on resume, from the start or the middle", async () => {
    const first = await connect(coalescing.url);
    const { id, outcome } = await ask(first.socket, QUESTION);
    const late = await connect(coalescing.url, { session_id: first.connected.session_id });

    const fromStart = collectStream(late.socket, () => id);
    expect((await request(late.socket, "resume", { message_id: id, after_seq: 0 })).ok).to.equal(
      true,
    );
    const replay = await fromStart;
    expect(replay.chunks).to.deep.equal(outcome.chunks);
    expect(replay.end["total_content"]).to.equal(outcome.end["total_content"]);

    const middle = Math.floor(outcome.chunks.length / 2);
    const fromMiddle = collectStream(late.socket, () => id);
    await request(late.socket, "resume", { message_id: id, after_seq: middle });
    expect((await fromMiddle).chunks).to.deep.equal(outcome.chunks.slice(middle));
    first.socket.close();
    late.socket.close();
  });

  it("sends what arrived before a cancel and reports it as partial_content", async () => {
    const { socket } = await connect(coalescing.url);
    const id = randomUUID();
    const stream = collectStream(socket, () => id);
    socket.once("stream_chunk", () => void request(socket, "cancel", { message_id: id }));
    await request(socket, "message", { content: QUESTION, message_id: id });
    const { chunks, end } = await stream;
    expect(end.type).to.equal("cancelled");
    expect(expectContiguous(chunks)).to.equal(true);
    expect(end["partial_content"]).to.equal(joined(chunks));
    socket.close();
  });
});

describe("stream chunk coalescing within one event-loop turn (the default)", function () {
  this.timeout(30000);
  const TOKENS = 2_000;
  let perTurn: RunningGateway;
  let perToken: RunningGateway;
  before(async () => {
    // A model that never waits yields its whole answer within one turn.
    const burst = () => ({ agentModel: { model: new BenchChatModel(), vendor: "demo" } });
    perTurn = await startGateway({ WS_STREAM_COALESCE_MAX_CHARS: "256" }, burst());
    perToken = await startGateway({ WS_STREAM_COALESCE_MAX_CHARS: "1" }, burst());
  });
  after(async () => {
    await perTurn.close();
    await perToken.close();
  });

  it("sends a turn's first token at once and the rest as chunks of at most WS_STREAM_COALESCE_MAX_CHARS, nothing lost", async () => {
    const { socket } = await connect(perTurn.url);
    const { outcome } = await ask(socket, benchPrompt(TOKENS));
    const text = BENCH_TOKEN.repeat(TOKENS);
    expect(outcome.end["total_content"]).to.equal(text);
    expect(joined(outcome.chunks)).to.equal(text);
    expect(expectContiguous(outcome.chunks)).to.equal(true);
    expect(outcome.chunks.length).to.be.within(Math.ceil(text.length / 256), TOKENS / 2);
    // The turn's first token does not wait for the rest of the turn.
    expect(outcome.chunks[0]?.content).to.equal(BENCH_TOKEN);
    for (const chunk of outcome.chunks) expect(chunk.content.length).to.be.at.most(256);
    socket.close();
  });

  it("sends each token alone with WS_STREAM_COALESCE_MAX_CHARS=1", async () => {
    const { socket } = await connect(perToken.url);
    const { outcome } = await ask(socket, benchPrompt(TOKENS));
    expect(outcome.chunks.map((c) => c.content)).to.deep.equal(
      Array.from({ length: TOKENS }, () => BENCH_TOKEN),
    );
    expect(expectContiguous(outcome.chunks)).to.equal(true);
    socket.close();
  });
});
