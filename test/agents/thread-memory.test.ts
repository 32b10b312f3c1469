import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { Socket as ClientSocket } from "socket.io-client";
import { buildAgentGraph, DemoChatModel, LatestCheckpointSaver } from "../../src/agents/index.js";
import { newestMessages } from "../../src/agents/agent-graph.js";
import { connect, request, startGateway } from "../support/gateway.js";
import { collectStream } from "../support/streams.js";
import { collect, gatewayTools } from "./support.js";

function chat(saver: LatestCheckpointSaver) {
  const graph = buildAgentGraph({
    model: new DemoChatModel({ tokenDelayMs: 0 }),
    tools: gatewayTools(),
    checkpointer: saver,
  });
  return {
    graph,
    ask: (threadId: string, text: string) =>
      collect(
        graph.streamEvents(
          { messages: [new HumanMessage(text)] },
          { version: "v2", configurable: { thread_id: threadId } },
        ),
      ),
    messages: async (threadId: string) => {
      const state = await graph.getState({ configurable: { thread_id: threadId } });
      return (state.values as { messages?: BaseMessage[] }).messages;
    },
  };
}

/** Stored checkpoints and write sets, across every thread. */
function stored(saver: LatestCheckpointSaver) {
  const checkpoints = Object.values(saver.storage).flatMap((namespaces) =>
    Object.values(namespaces).flatMap((byId) => Object.keys(byId)),
  );
  return { checkpoints: checkpoints.length, writeSets: Object.keys(saver.writes).length };
}

async function ask(socket: ClientSocket, content: string): Promise<string> {
  const id = randomUUID();
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, "message", { content, message_id: id });
  if (!ack.ok) throw new Error(`message refused: ${ack.error.code}`);
  const { end } = await stream;
  return String(end["total_content"]);
}

describe("conversation memory bounds", () => {
  const savers: LatestCheckpointSaver[] = [];
  const saver = (ttlMs = 60_000, maxThreads = 100, now?: () => number) => {
    const created = new LatestCheckpointSaver({ ttlMs, maxThreads }, now);
    savers.push(created);
    return created;
  };
  after(() => savers.forEach((s) => s.close()));

  it("keeps one checkpoint per thread however long the conversation, with its whole history", async () => {
    const memory = saver();
    const { ask: say, messages } = chat(memory);
    for (let i = 1; i <= 5; i++) await say("long", `note ${i}: ${"x".repeat(1000)}`);
    await say("long", "what is 12 * (3 + 4)?");
    expect(stored(memory)).to.deep.equal({ checkpoints: 1, writeSets: 0 });
    const history = (await messages("long")) ?? [];
    // Five exchanges, then the tool round trip: human, ai (call), tool, ai.
    expect(history).to.have.length(14);
    expect(history.at(-2)).to.satisfy((m: BaseMessage) => ToolMessage.isInstance(m));
    expect(history.at(-1)?.text).to.include("12 * (3 + 4) = 84");
    const events = await say("long", "what did I say before?");
    expect(events.length).to.be.greaterThan(0);
    expect((await messages("long"))?.at(-1)?.text).to.include("what is 12 * (3 + 4)?");
  });

  it("continues a conversation after a cancelled run", async () => {
    const memory = saver();
    const { graph, ask: say, messages } = chat(memory);
    await say("cancel", "Please remember the word heron.");
    const controller = new AbortController();
    const events = graph.streamEvents(
      { messages: [new HumanMessage("what is 2 + 2?")] },
      { version: "v2", configurable: { thread_id: "cancel" }, signal: controller.signal },
    );
    try {
      for await (const event of events) if (event.event === "on_tool_start") controller.abort();
    } catch {
      // the abort surfaces as an error, as it does for the run manager
    }
    await say("cancel", "what did I say before?");
    expect((await messages("cancel"))?.at(-1)?.text).to.include("what is 2 + 2?");
    expect(stored(memory).checkpoints).to.equal(1);
  });

  it("deletes threads idle past the TTL and keeps the fresh ones", async () => {
    let clock = 0;
    const memory = saver(1000, 100, () => clock);
    const { ask: say, messages } = chat(memory);
    await say("idle", "hello");
    clock = 600;
    await say("fresh", "hello");
    clock = 1100;
    memory.evictIdle();
    expect(await messages("idle")).to.equal(undefined);
    expect(await messages("fresh")).to.have.length(2);
    expect(memory.threadCount).to.equal(1);
    expect(stored(memory)).to.deep.equal({ checkpoints: 1, writeSets: 0 });
  });

  it("holds at most maxThreads threads, the least recently written evicted first, whatever their ids", async () => {
    const memory = saver(60_000, 3);
    const { ask: say, messages } = chat(memory);
    const ids = [
      "owner:alice/session-1",
      '"],["x',
      "ü 🙂 \u0000",
      "a".repeat(2000),
      "constructorX",
    ];
    for (const id of ids) await say(id, "hello");
    await say(ids[2] as string, "still here");
    expect(memory.threadCount).to.equal(3);
    expect(await messages(ids[0] as string)).to.equal(undefined);
    expect(await messages(ids[1] as string)).to.equal(undefined);
    expect(await messages(ids[2] as string)).to.have.length(4);
    expect(stored(memory)).to.deep.equal({ checkpoints: 3, writeSets: 0 });
    await memory.deleteThread(ids[4] as string);
    expect(stored(memory).checkpoints).to.equal(2);
  });

  it("shows the model the newest messages only, never opening on an orphan tool result", async () => {
    const call = new AIMessage({
      content: "",
      tool_calls: [{ id: "c1", name: "calculator", args: { expression: "1 + 1" } }],
    });
    const thread = [
      new HumanMessage("what is 1 + 1?"),
      call,
      new ToolMessage({ tool_call_id: "c1", content: "2" }),
      new AIMessage("1 + 1 = 2"),
      new HumanMessage("thanks"),
    ];
    const types = async (max: number) =>
      (await newestMessages(thread, max)).map((m) => m.getType());
    expect(await types(2)).to.deep.equal(["ai", "human"]);
    expect(await types(3)).to.deep.equal(["ai", "human"]);
    expect(await types(4)).to.deep.equal(["ai", "tool", "ai", "human"]);
    expect(await types(50)).to.have.length(5);
  });

  it("bounds what the model sees with AGENT_HISTORY_MAX_MESSAGES, through a real gateway", async () => {
    for (const [max, expected] of [
      ["2", /first message you have sent/],
      ["3", /Your previous message was: "The password is tulip."/],
    ] as const) {
      const server = await startGateway({
        DEMO_TOKEN_DELAY_MS: "0",
        AGENT_HISTORY_MAX_MESSAGES: max,
      });
      const { socket } = await connect(server.url);
      try {
        await ask(socket, "The password is tulip.");
        expect(await ask(socket, "what did I say before?")).to.match(expected);
      } finally {
        socket.close();
        await server.close();
      }
    }
  });

  it("forgets the oldest sessions when more than AGENT_MAX_THREADS write, and keeps serving", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0", AGENT_MAX_THREADS: "2" });
    const sockets: ClientSocket[] = [];
    try {
      for (const session of ["s1", "s2", "s3"]) {
        const { socket } = await connect(server.url, { session_id: session });
        sockets.push(socket);
        await ask(socket, `I am session ${session}.`);
      }
      const [first, , third] = sockets as [ClientSocket, ClientSocket, ClientSocket];
      expect(await ask(third, "what did I say before?")).to.include('"I am session s3."');
      expect(await ask(first, "what did I say before?")).to.match(/first message you have sent/);
    } finally {
      sockets.forEach((s) => s.close());
      await server.close();
    }
  });
});
