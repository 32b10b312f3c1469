import { expect } from "chai";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { buildAgentGraph, createCheckpointer, DemoChatModel } from "../../src/agents/index.js";
import { messagesToRemove } from "../../src/agents/thread-trim.js";
import { ConfigError, loadConfig } from "../../src/core/config.js";
import { createPrivateDatabase } from "../support/postgres.js";
import { collect, gatewayTools } from "./support.js";

const call = (id: string) =>
  new AIMessage({
    id: `ai-${id}`,
    content: "",
    tool_calls: [{ id, name: "calculator", args: { expression: "1 + 1" } }],
  });
const result = (id: string) =>
  new ToolMessage({ id: `tool-${id}`, tool_call_id: id, content: "2" });

describe("stored thread bound (AGENT_THREAD_MAX_MESSAGES)", () => {
  describe("messagesToRemove", () => {
    const thread: BaseMessage[] = [
      new HumanMessage({ id: "h1", content: "what is 1 + 1 and 2 + 0?" }),
      call("c1"),
      result("c1"),
      new ToolMessage({ id: "tool-c1b", tool_call_id: "c1b", content: "2" }),
      new AIMessage({ id: "a1", content: "2 and 2" }),
      new HumanMessage({ id: "h2", content: "thanks" }),
    ];
    const removed = (max: number) => messagesToRemove(thread, max).map((m) => m.id);

    it("removes nothing from a thread within the bound", () => {
      expect(removed(6)).to.deep.equal([]);
      expect(removed(100)).to.deep.equal([]);
      expect(messagesToRemove([], 2)).to.deep.equal([]);
    });

    it("removes the oldest first", () => {
      expect(removed(5)).to.deep.equal(["h1"]);
      expect(removed(2)).to.deep.equal(["h1", "ai-c1", "tool-c1", "tool-c1b"]);
    });

    it("never keeps a tool result whose call it removes, however many results the call had", () => {
      expect(removed(4)).to.deep.equal(["h1", "ai-c1", "tool-c1", "tool-c1b"]);
      expect(removed(3)).to.deep.equal(["h1", "ai-c1", "tool-c1", "tool-c1b"]);
    });

    it("removes a whole thread of tool results rather than keep an orphan", () => {
      const orphans = [result("x"), result("y")];
      expect(messagesToRemove(orphans, 1).map((m) => m.id)).to.deep.equal(["tool-x", "tool-y"]);
    });
  });

  describe("a conversation driven past the bound", () => {
    async function drive(saver: BaseCheckpointSaver, threadId: string) {
      const max = 6;
      const graph = buildAgentGraph({
        model: new DemoChatModel({ tokenDelayMs: 0 }),
        tools: gatewayTools(),
        checkpointer: saver,
        historyMaxMessages: 3,
        threadMaxMessages: max,
      });
      const config = { configurable: { thread_id: threadId } };
      const stored = async () =>
        ((await graph.getState(config)).values as { messages: BaseMessage[] }).messages;
      const ask = (text: string) =>
        collect(
          graph.streamEvents({ messages: [new HumanMessage(text)] }, { version: "v2", ...config }),
        );
      for (let i = 1; i <= 6; i++) {
        await ask(i % 2 === 0 ? `what is ${i} * 7?` : `note ${i}`);
        const messages = await stored();
        expect(messages.length).to.be.at.most(max);
        expect(ToolMessage.isInstance(messages[0])).to.equal(false);
      }
      await ask("The password is tulip.");
      await ask("what did I say before?");
      const messages = await stored();
      expect(messages.length).to.be.at.most(max);
      expect(messages.at(-1)?.text).to.include('"The password is tulip."');
    }

    it("keeps at most the bound in memory, and the model still answers", async () => {
      const checkpointer = await createCheckpointer(undefined, { ttlMs: 60_000, maxThreads: 10 });
      try {
        await drive(checkpointer.saver, "bounded-memory");
      } finally {
        await checkpointer.close();
      }
    });

    it("keeps at most the bound in PostgreSQL, and the model still answers", async () => {
      const database = await createPrivateDatabase();
      const checkpointer = await createCheckpointer(database.url);
      try {
        await drive(checkpointer.saver, "bounded-postgres");
      } finally {
        await checkpointer.close();
        await database.drop();
      }
    });
  });

  it("refuses a bound below AGENT_HISTORY_MAX_MESSAGES, or below 2", () => {
    expect(() =>
      loadConfig({ AGENT_HISTORY_MAX_MESSAGES: "50", AGENT_THREAD_MAX_MESSAGES: "49" }),
    ).to.throw(
      ConfigError,
      /AGENT_THREAD_MAX_MESSAGES=49 must be at least AGENT_HISTORY_MAX_MESSAGES=50/,
    );
    expect(() =>
      loadConfig({ AGENT_HISTORY_MAX_MESSAGES: "1", AGENT_THREAD_MAX_MESSAGES: "1" }),
    ).to.throw(ConfigError, /AGENT_THREAD_MAX_MESSAGES/);
    expect(loadConfig({}).agent.threadMaxMessages).to.equal(200);
  });
});
