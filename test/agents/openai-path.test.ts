import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { HumanMessage, type ToolMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";
import { ConfigError } from "../../src/core/config.js";
import { buildAgentGraph, createChatModel, DemoChatModel } from "../../src/agents/index.js";
import { agentConfig, collect, gatewayTools, named, tokens } from "./support.js";

interface ChatRequest {
  model: string;
  stream: boolean;
  messages: { role: string; content: unknown; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string } }[];
}

const ANSWER = ["12 * (3 + 4)", " is", " 84", ", according", " to the", " calculator."];

/** The SSE events of a streamed chat completion: one `data:` line per delta, then [DONE]. */
function sse(id: string, deltas: Record<string, unknown>[], finishReason: string): string[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "test-model",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  return [...deltas.map((d) => chunk(d, null)), chunk({}, finishReason), "data: [DONE]\n\n"];
}

function reply(request: ChatRequest, id: string): string[] {
  if (request.messages.some((m) => m.role === "tool")) {
    const text = ANSWER.map((content) => ({ content }));
    return sse(id, [{ role: "assistant", content: "" }, ...text], "stop");
  }
  const call = { index: 0, id: "call_abc", type: "function" };
  return sse(
    id,
    [
      {
        role: "assistant",
        content: null,
        tool_calls: [{ ...call, function: { name: "calculator", arguments: "" } }],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"expression":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"12 * (3 + 4)"}' } }] },
    ],
    "tool_calls",
  );
}

/**
 * A tiny OpenAI-compatible server: asked with tools and no tool result yet, it
 * streams a calculator call; once the tool result is in the history, it
 * streams the answer in several chunks.
 */
function startFakeOpenAI(requests: ChatRequest[]): Promise<Server> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404).end();
        return;
      }
      try {
        const request = JSON.parse(body) as ChatRequest;
        requests.push(request);
        // Distinct ids matter: the messages reducer replaces a message whose id it already holds.
        const events = reply(request, `chatcmpl-${requests.length}`);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        for (const event of events) res.write(event);
        res.end();
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("OpenAI-compatible model", () => {
  const requests: ChatRequest[] = [];
  let server: Server;
  let baseUrl: string;
  before(async () => {
    server = await startFakeOpenAI(requests);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => {
    // The client keeps its connection alive; close it so the server can stop.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("runs the agent graph against a streaming server: tool call, tool, streamed answer", async () => {
    const { model, vendor } = createChatModel(
      agentConfig({ AGENT_MODEL: "openai:test-model", OPENAI_BASE_URL: baseUrl }),
    );
    expect(vendor).to.equal("openai");
    expect(model).to.be.instanceOf(ChatOpenAI);
    const graph = buildAgentGraph({
      model,
      tools: gatewayTools(),
      checkpointer: new MemorySaver(),
    });

    const events = await collect(
      graph.streamEvents(
        { messages: [new HumanMessage("what is 12 * (3 + 4)?")] },
        { version: "v2", configurable: { thread_id: "openai" } },
      ),
    );

    expect(tokens(events, "agent")).to.deep.equal(ANSWER);
    const [end] = named(events, "on_tool_end", "calculator");
    expect(end?.metadata["langgraph_node"]).to.equal("tools");
    expect((end?.data.output as ToolMessage).content).to.equal("84");
    const final = named(events, "on_chain_end", "LangGraph")[0]?.data.output as {
      messages: { text: string }[];
    };
    expect(final.messages.at(-1)?.text).to.equal(ANSWER.join(""));

    expect(requests).to.have.length(2);
    const [first, second] = requests;
    expect(first?.model).to.equal("test-model");
    expect(first?.stream).to.equal(true);
    expect(first?.tools?.map((t) => t.function.name)).to.have.members([
      "calculator",
      "current_time",
    ]);
    expect(first?.messages.map((m) => m.role)).to.deep.equal(["system", "user"]);
    expect(second?.messages.map((m) => m.role)).to.deep.equal([
      "system",
      "user",
      "assistant",
      "tool",
    ]);
    expect(second?.messages.at(-1)).to.include({ tool_call_id: "call_abc", content: "84" });
  });

  it("builds the demo model from the default configuration", () => {
    const { model, vendor } = createChatModel(agentConfig({ DEMO_TOKEN_DELAY_MS: "7" }));
    expect(vendor).to.equal("demo");
    expect(model).to.be.instanceOf(DemoChatModel);
    expect((model as DemoChatModel).tokenDelayMs).to.equal(7);
  });

  it("refuses an OpenAI model with neither a key nor a base URL", () => {
    expect(() => createChatModel(agentConfig({ AGENT_MODEL: "openai:gpt-4o-mini" }))).to.throw(
      ConfigError,
      /OPENAI_API_KEY/,
    );
  });
});
