/**
 * Issue 19, item 3: the gateway hears graphs through callbacks
 * (src/runs/graph-callbacks.ts), not through `streamEvents`. This suite runs
 * the same graphs and inputs both ways and asks for the same sequence of what
 * a client is told: text per node run, tool calls, custom events, interrupts.
 */
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { isAIMessage, isBaseMessage, type BaseMessage } from "@langchain/core/messages";
import type { StreamEvent } from "@langchain/core/tracers/log_stream";
import { Command, MemorySaver } from "@langchain/langgraph";
import { buildAgentGraph, DemoChatModel, textOf } from "../src/agents/index.js";
import { calculatorTool } from "../src/tools/calculator.js";
import { currentTimeTool } from "../src/tools/current-time.js";
import { graph as supportDesk } from "./fixtures/third-party-graphs/support_desk.js";
import { graph as streamingResearch } from "./fixtures/third-party-graphs/streaming_research.js";
import { connectAs, type TestClient } from "./support/clients.js";
import {
  recordEvents,
  request,
  startGatewayWithGraphs,
  type RunningGateway,
} from "./support/gateway.js";

/** What a client learns from a run, in order, with nothing run-specific (ids, task hashes) left in. */
type Item =
  | { text: string; node: string; namespace: string[] }
  | { tool_start: string; input: unknown }
  | { tool_end: string }
  | { custom: string; data: unknown; namespace: string[] }
  | { interrupts: unknown[] };

/** The part of a compiled graph the reference runs use, whatever the graph's state. */
interface AnyGraph {
  checkpointer?: unknown;
  withConfig(config: object): unknown;
  streamEvents(
    input: unknown,
    options: { version: "v2"; configurable: { thread_id: string } },
  ): AsyncIterable<StreamEvent>;
  stream(
    input: unknown,
    options: { streamMode: "custom"; subgraphs: true; configurable: { thread_id: string } },
  ): Promise<AsyncIterable<[string[], unknown]>>;
  getState(config: {
    configurable: { thread_id: string };
  }): Promise<{ tasks: Array<{ interrupts: Array<{ value?: unknown }> }> }>;
}

/** "triage:<task id>|classify:<task id>" → ["triage"]: the subgraph path without task ids or the node itself. */
function namespaceOf(metadata: Record<string, unknown> | undefined): string[] {
  const ns = metadata?.["langgraph_checkpoint_ns"];
  if (typeof ns !== "string" || !ns.includes("|")) return [];
  return ns
    .split("|")
    .slice(0, -1)
    .map((step) => step.split(":")[0] ?? step);
}

/** Consecutive text of one node run is one item, however the tokens were cut. */
function pushText(items: Item[], text: string, node: string, namespace: string[]): void {
  const last = items.at(-1);
  if (last && "text" in last && last.node === node) last.text += text;
  else items.push({ text, node, namespace });
}

function messagesOf(output: unknown): BaseMessage[] {
  const messages = (output as { messages?: unknown } | undefined)?.messages;
  return Array.isArray(messages) ? messages.filter((m) => isBaseMessage(m)) : [];
}

/** A copy of the graph with a checkpointer of its own, as the gateway lends one. */
function withMemory(graph: AnyGraph): AnyGraph {
  const copy = graph.withConfig({}) as AnyGraph;
  copy.checkpointer = new MemorySaver();
  return copy;
}

/** The reference: LangChain's own event stream, read the way a client would want it. */
async function viaStreamEvents(graph: AnyGraph, input: unknown, threadId: string) {
  const items: Item[] = [];
  const streamedIds = new Set<string>();
  const config = { version: "v2" as const, configurable: { thread_id: threadId } };
  for await (const event of graph.streamEvents(input, config)) {
    const metadata = event.metadata as Record<string, unknown> | undefined;
    const node = typeof metadata?.["langgraph_node"] === "string" ? metadata["langgraph_node"] : "";
    const data = event.data as Record<string, unknown>;
    switch (event.event) {
      case "on_chat_model_stream": {
        const chunk = data["chunk"] as BaseMessage;
        if (chunk.id) streamedIds.add(chunk.id);
        const text = textOf(chunk.content);
        if (text.length > 0) pushText(items, text, node, namespaceOf(metadata));
        break;
      }
      case "on_chat_model_end": {
        const id = (data["output"] as BaseMessage | undefined)?.id;
        if (id) streamedIds.add(id);
        break;
      }
      case "on_chain_end":
        // A message a node returns that no model streamed: LangGraph's "messages" mode sends it whole.
        if (event.name !== node) break;
        for (const message of messagesOf(data["output"])) {
          if (message.id && streamedIds.has(message.id)) continue;
          // The id given here stays with the message into the state (LangGraph's own
          // "messages" mode does the same), so a subgraph's output does not repeat it.
          message.id ??= randomUUID();
          streamedIds.add(message.id);
          const text = isAIMessage(message) ? textOf(message.content) : "";
          if (text.length > 0) pushText(items, text, node, namespaceOf(metadata));
        }
        break;
      case "on_tool_start":
        items.push({ tool_start: event.name, input: data["input"] });
        break;
      case "on_tool_end":
        items.push({ tool_end: event.name });
        break;
      case "on_custom_event":
        items.push({ custom: event.name, data: data, namespace: namespaceOf(metadata) });
        break;
    }
  }
  const state = await graph.getState({ configurable: { thread_id: threadId } });
  const interrupts = state.tasks.flatMap((task) => task.interrupts.map((i) => i.value));
  if (interrupts.length > 0) items.push({ interrupts });
  return items;
}

/** The reference for `config.writer`, which `streamEvents` does not carry: LangGraph's "custom" stream mode. */
async function writerEventsViaStream(graph: AnyGraph, input: unknown, threadId: string) {
  const written: unknown[] = [];
  const stream = await graph.stream(input, {
    streamMode: "custom",
    subgraphs: true,
    configurable: { thread_id: threadId },
  });
  for await (const [, data] of stream) written.push(data);
  return written;
}

/** The same run through a real gateway, as a Socket.IO client hears it. */
function viaGateway(events: Array<{ type: string; payload: Record<string, unknown> }>) {
  const items: Item[] = [];
  const written: unknown[] = [];
  for (const { type, payload } of events) {
    const namespace = ((payload["namespace"] as string[] | undefined) ?? []).map(
      (step) => step.split(":")[0] ?? step,
    );
    switch (type) {
      case "stream_chunk":
        pushText(items, payload["content"] as string, payload["agent"] as string, namespace);
        break;
      case "tool_start":
        items.push({ tool_start: payload["tool_name"] as string, input: payload["input"] });
        break;
      case "tool_result":
        items.push({ tool_end: payload["tool_name"] as string });
        break;
      case "custom_event":
        if (payload["name"] === null) written.push(payload["data"]);
        else items.push({ custom: payload["name"] as string, data: payload["data"], namespace });
        break;
      case "run_interrupted":
        items.push({
          interrupts: (payload["interrupts"] as Array<{ value: unknown }>).map((i) => i.value),
        });
        break;
    }
  }
  return { items, written };
}

/** Records every event of one run (until stream_end, run_interrupted or an error) on a fresh session. */
async function runOnGateway(
  socket: TestClient,
  event: "message" | "resume_run",
  payload: Record<string, unknown>,
) {
  const events = recordEvents(socket);
  const done = new Promise<void>((resolve) => {
    for (const type of ["stream_end", "run_interrupted", "agent_error"])
      socket.on(type, (p: Record<string, unknown>) => {
        if (p["message_id"] === payload["message_id"]) resolve();
      });
  });
  const ack = await request(socket, event, payload);
  expect(ack.ok, JSON.stringify(ack)).to.equal(true);
  await done;
  for (const type of ["stream_end", "run_interrupted", "agent_error"]) socket.off(type);
  socket.offAny();
  expect(events.map((e) => e.type)).to.not.include("agent_error");
  return viaGateway(events);
}

describe("the callbacks driver tells a client what streamEvents v2 tells", function () {
  this.timeout(30000);
  let server: RunningGateway;
  const sockets: TestClient[] = [];
  before(async () => {
    server = await startGatewayWithGraphs(["support_desk.ts", "streaming_research.ts"], {
      DEMO_TOKEN_DELAY_MS: "0",
    });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(() => server.close());

  async function open() {
    const { socket } = await connectAs("socketio", server.url);
    sockets.push(socket);
    return socket;
  }

  it("the built-in agent: a tool call, its result, then the streamed answer", async () => {
    const agent = buildAgentGraph({
      model: new DemoChatModel({ tokenDelayMs: 0 }),
      tools: [calculatorTool, currentTimeTool],
      checkpointer: new MemorySaver(),
    }) as unknown as AnyGraph;
    const content = "what is 12*7?";
    const expected = await viaStreamEvents(
      agent,
      { messages: [{ role: "user", content }] },
      randomUUID(),
    );
    expect(expected.some((i) => "tool_start" in i && i.tool_start === "calculator")).to.equal(true);
    expect(expected.at(-1)).to.deep.include({ node: "agent" });

    const { items } = await runOnGateway(await open(), "message", {
      content,
      message_id: randomUUID(),
    });
    expect(items).to.deep.equal(expected);
  });

  it("a third-party graph: subgraph reply, custom and writer events, an interrupt, then its resume", async () => {
    const graph = withMemory(supportDesk);
    const content = "I was charged twice on my invoice";
    const input = { messages: [{ role: "user", content }] };
    const thread = randomUUID();
    const expected = await viaStreamEvents(graph, input, thread);
    expect(expected.at(-1)).to.deep.equal({ interrupts: [{ question: "Escalate to a person?" }] });
    const expectedWritten = await writerEventsViaStream(
      withMemory(supportDesk),
      input,
      randomUUID(),
    );
    expect(expectedWritten).to.have.length(1);
    const expectedResume = await viaStreamEvents(graph, new Command({ resume: true }), thread);
    expect(expectedResume).to.deep.equal([
      { text: "Escalated to a person.", node: "confirm", namespace: [] },
    ]);

    const socket = await open();
    const messageId = randomUUID();
    const paused = await runOnGateway(socket, "message", {
      content,
      graph: "support_desk",
      message_id: messageId,
    });
    expect(paused.items).to.deep.equal(expected);
    expect(paused.written).to.deep.equal(expectedWritten);
    const resumed = await runOnGateway(socket, "resume_run", {
      message_id: messageId,
      resume: true,
    });
    expect(resumed.items).to.deep.equal(expectedResume);
  });

  it("a model streaming inside a subgraph, then at the top", async () => {
    const content = "why are there tides?";
    const input = { messages: [{ role: "user", content }] };
    const expected = await viaStreamEvents(withMemory(streamingResearch), input, randomUUID());
    expect(expected).to.deep.equal([
      { custom: "drafting", data: { sources: 2 }, namespace: ["research"] },
      { text: "Tides follow the moon.", node: "draft", namespace: ["research"] },
      { text: "In short: the moon.", node: "summary", namespace: [] },
    ]);
    const expectedWritten = await writerEventsViaStream(
      withMemory(streamingResearch),
      input,
      randomUUID(),
    );

    const { items, written } = await runOnGateway(await open(), "message", {
      content,
      graph: "streaming_research",
      message_id: randomUUID(),
    });
    expect(items).to.deep.equal(expected);
    expect(written).to.deep.equal(expectedWritten);
  });
});
