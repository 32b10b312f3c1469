/**
 * LangGraph's own ceiling, measured in the same `npm run bench` run as the
 * gateway: the gateway's chat graph, built by the same factory with the same
 * checkpointer and the bench model, driven in this process with no socket at
 * all through `streamEvents` v2 (how LangGraph is driven when every event is
 * wanted). Started by bench/run-bench.ts as a child like the load client; it
 * reports its figures over IPC the same way.
 *
 * The lighter driver the gateway itself uses (callbacks on `invoke`,
 * src/runs/graph-callbacks.ts) is measured beside it, under `*_callbacks`,
 * so the table can say how far the gateway is from that floor too.
 */
import { HumanMessage } from "@langchain/core/messages";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { loadConfig } from "../src/core/config.js";
import { createValidator } from "../src/core/validator.js";
import { fileURLToPath } from "node:url";
import type { AgentGraph } from "../src/agents/index.js";
import { graphsInFolder } from "../src/graphs/load-graphs.js";
import { createAgentRuntime } from "../src/runs/agent-runtime.js";
import { ToolRegistry } from "../src/tools/tool-registry.js";
import { BenchChatModel, benchPrompt } from "./bench-model.js";
import { percentile } from "./stats.js";

export type InProcessTask =
  | { scenario: "stream"; tokens: number }
  | { scenario: "sessions"; sessions: number; tokens: number }
  | { scenario: "first-token"; messages: number; yieldEvery: number };

const task = JSON.parse(process.argv[2] ?? "{}") as InProcessTask;
let threads = 0;

/** The compiled graph the gateway runs for a message: graphs/agent.ts with the gateway's checkpointer. */
interface AgentRuntime {
  chatGraph: AgentGraph;
}

/** One run through the event stream; resolves with the time of its first token. */
async function viaEvents(runtime: AgentRuntime, tokens: number, thread: string): Promise<number> {
  let first = 0;
  const events = runtime.chatGraph.streamEvents(
    { messages: [new HumanMessage(benchPrompt(tokens))] },
    { version: "v2", configurable: { thread_id: thread } },
  );
  for await (const event of events) {
    if (first === 0 && event.event === "on_chat_model_stream") first = performance.now();
  }
  return first;
}

/** One run through `invoke` with a token callback, the gateway's own driver. */
async function viaCallbacks(
  runtime: AgentRuntime,
  tokens: number,
  thread: string,
): Promise<number> {
  let first = 0;
  class FirstToken extends BaseCallbackHandler {
    name = "first_token";
    lc_prefer_streaming = true;
    constructor() {
      super({ _awaitHandler: true });
    }
    override handleLLMNewToken(): void {
      if (first === 0) first = performance.now();
    }
  }
  await runtime.chatGraph.invoke(
    { messages: [new HumanMessage(benchPrompt(tokens))] },
    { callbacks: [new FirstToken()], configurable: { thread_id: thread } },
  );
  return first;
}

type Driver = typeof viaEvents;

/** Tokens per second and CPU per 1,000 tokens of `runs` concurrent runs of `tokens` each. */
async function throughput(runtime: AgentRuntime, drive: Driver, runs: number, tokens: number) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: runs }, () => drive(runtime, tokens, `t${threads++}`)));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    tokens_per_s: (runs * tokens) / seconds,
    cpu_per_1k: (used.user + used.system) / 1000 / ((runs * tokens) / 1000),
  };
}

/** Call → first token, one message at a time, 25 to a thread as the load client sends them. */
async function firstToken(runtime: AgentRuntime, drive: Driver, messages: number) {
  const times: number[] = [];
  for (let i = 0; i < messages; i++) {
    const started = performance.now();
    times.push((await drive(runtime, 1, `ft${Math.floor(i / 25)}-${threads}`)) - started);
  }
  threads++;
  // As on the server side: the first messages pay for JIT compilation.
  const warm = times.slice(Math.min(20, Math.floor(times.length / 5)));
  return { client_p50_ms: percentile(warm, 50), client_p99_ms: percentile(warm, 99) };
}

async function measure(runtime: AgentRuntime): Promise<Record<string, number>> {
  const suffixed = (figures: Record<string, number>) =>
    Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${k}_callbacks`, v]));
  switch (task.scenario) {
    case "stream":
      // A warm-up run first: the gateway's process has compiled this path by the time it is measured.
      await throughput(runtime, viaEvents, 1, 1000);
      return {
        ...(await throughput(runtime, viaEvents, 1, task.tokens)),
        ...suffixed(await throughput(runtime, viaCallbacks, 1, task.tokens)),
      };
    case "sessions":
      await throughput(runtime, viaEvents, 10, 100);
      return {
        ...(await throughput(runtime, viaEvents, task.sessions, task.tokens)),
        ...suffixed(await throughput(runtime, viaCallbacks, task.sessions, task.tokens)),
      };
    case "first-token":
      return {
        ...(await firstToken(runtime, viaEvents, task.messages)),
        ...suffixed(await firstToken(runtime, viaCallbacks, task.messages)),
      };
  }
}

try {
  const config = loadConfig({ ...process.env, LOG_LEVEL: "warn" });
  const tools = new ToolRegistry(createValidator());
  const graphs = await graphsInFolder(fileURLToPath(new URL("../graphs", import.meta.url)));
  const runtime = await createAgentRuntime(config, tools, graphs, {
    model: new BenchChatModel(task.scenario === "first-token" ? task.yieldEvery : 0),
    vendor: "demo",
  });
  const chatGraph = (await runtime.graphs.compiled("agent")) as unknown as AgentGraph;
  const figures = await measure({ chatGraph });
  await runtime.close();
  process.send?.({ type: "done", figures });
} catch (error) {
  process.send?.({
    type: "failed",
    message: error instanceof Error ? error.message : String(error),
  });
}
process.disconnect?.();
