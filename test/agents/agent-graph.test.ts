import { expect } from "chai";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { buildAgentGraph, createCheckpointer, DemoChatModel } from "../../src/agents/index.js";
import { answerDanglingToolCalls } from "../../src/agents/agent-graph.js";
import { chunkOf, collect, gatewayTools, named, tokens } from "./support.js";

function demoGraph(tokenDelayMs = 0) {
  return buildAgentGraph({
    model: new DemoChatModel({ tokenDelayMs }),
    tools: gatewayTools(),
    checkpointer: new MemorySaver(),
  });
}

function ask(graph: ReturnType<typeof demoGraph>, threadId: string, text: string) {
  return graph.streamEvents(
    { messages: [new HumanMessage(text)] },
    { version: "v2", configurable: { thread_id: threadId } },
  );
}

describe("agent graph", () => {
  it("answers arithmetic through a real calculator tool call", async () => {
    const events = await collect(ask(demoGraph(1), "math", "what is 12 * (3 + 4)?"));

    const call = named(events, "on_chat_model_stream").find(
      (e) => (chunkOf(e).tool_call_chunks?.length ?? 0) > 0,
    );
    expect(call?.metadata["langgraph_node"]).to.equal("agent");
    expect(call && chunkOf(call).tool_call_chunks?.[0]).to.include({ name: "calculator" });

    const [start] = named(events, "on_tool_start", "calculator");
    expect(start?.metadata["langgraph_node"]).to.equal("tools");
    expect(start?.data.input).to.deep.equal({ expression: "12 * (3 + 4)" });
    const [end] = named(events, "on_tool_end", "calculator");
    const output = end?.data.output as ToolMessage;
    expect(ToolMessage.isInstance(output)).to.equal(true);
    expect(output.content).to.equal("84");

    const answer = tokens(events, "agent").join("");
    expect(answer).to.include("12 * (3 + 4) = 84");
    const nodes = named(events, "on_chain_start")
      .map((e) => e.name)
      .filter((name) => name === "agent" || name === "tools");
    expect(nodes).to.deep.equal(["agent", "tools", "agent"]);

    const final = named(events, "on_chain_end", "LangGraph")[0]?.data.output as {
      messages: BaseMessage[];
    };
    expect(final.messages.map((m) => m.getType())).to.deep.equal(["human", "ai", "tool", "ai"]);
    expect(final.messages.at(-1)?.content).to.equal(answer);
  });

  it("calls current_time for the time and reports it", async () => {
    const events = await collect(ask(demoGraph(), "time", "What time is it in Asia/Tokyo?"));
    const [end] = named(events, "on_tool_end", "current_time");
    expect(JSON.parse((end?.data.output as ToolMessage).text)).to.include({
      timezone: "Asia/Tokyo",
    });
    expect(tokens(events).join("")).to.include("Asia/Tokyo");
  });

  it("remembers the conversation on one thread_id, and only there", async () => {
    const graph = demoGraph();
    await collect(ask(graph, "session-a", "My favourite colour is teal."));
    await collect(ask(graph, "session-b", "I am on another session."));

    const again = tokens(await collect(ask(graph, "session-a", "what did I say before?")));
    expect(again.join("")).to.include('"My favourite colour is teal."');
    const state = await graph.getState({ configurable: { thread_id: "session-a" } });
    expect((state.values as { messages: BaseMessage[] }).messages).to.have.length(4);

    const fresh = tokens(await collect(ask(graph, "session-c", "what did I say before?")));
    expect(fresh.join("")).to.include("first message");
  });

  it("stops streaming when the run's signal aborts", async () => {
    const controller = new AbortController();
    const graph = demoGraph(60_000);
    let afterAbort = 0;
    let aborted = false;
    let caught: unknown;
    try {
      for await (const event of graph.streamEvents(
        { messages: [new HumanMessage("Tell me a long story about dragons")] },
        { version: "v2", configurable: { thread_id: "abort" }, signal: controller.signal },
      )) {
        if (aborted && event.event === "on_chat_model_stream") afterAbort++;
        if (event.event === "on_chat_model_stream" && !aborted) {
          aborted = true;
          controller.abort(new Error("cancelled by the user"));
        }
      }
    } catch (error) {
      caught = error;
    }
    expect(aborted).to.equal(true);
    expect(caught).to.be.instanceOf(Error);
    expect(afterAbort).to.equal(0);
  });

  it("uses a MemorySaver when no database URL is given", async () => {
    const checkpointer = await createCheckpointer(undefined);
    expect(checkpointer.saver).to.be.instanceOf(MemorySaver);
    await checkpointer.close();
  });

  it("answers tool calls a cancelled run left behind, in the prompt only", () => {
    const cancelled = new AIMessage({
      content: "",
      tool_calls: [{ id: "call_1", name: "calculator", args: { expression: "1 + 1" } }],
    });
    const thread = [new HumanMessage("what is 1 + 1?"), cancelled, new HumanMessage("hello?")];
    const prompt = answerDanglingToolCalls(thread);
    expect(prompt.map((m) => m.getType())).to.deep.equal(["human", "ai", "tool", "human"]);
    expect(prompt[2]).to.include({ tool_call_id: "call_1", status: "error" });
    expect(thread).to.have.length(3);
    const running = [new HumanMessage("what is 1 + 1?"), cancelled];
    expect(answerDanglingToolCalls(running)).to.deep.equal(running);
  });
});
