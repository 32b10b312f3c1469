/**
 * The ceiling LangGraph itself sets, with no socket at all: tokens per second
 * through the agent graph, and its time to first token, with the zero-delay
 * bench model. Driven through `streamEvents` v2 (how the gateway drove it
 * before it listened through callbacks, src/runs/graph-callbacks.ts) and
 * through `stream` with the `messages` mode.
 *
 *   node --import tsx bench/graph-ceiling.ts [--tokens 20000] [--runs 3]
 */
import { parseArgs } from "node:util";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { buildAgentGraph } from "../src/agents/index.js";
import { createValidator } from "../src/core/validator.js";
import { ToolRegistry } from "../src/tools/tool-registry.js";
import { BenchChatModel, benchPrompt } from "./bench-model.js";

const { values } = parseArgs({
  options: { tokens: { type: "string", default: "20000" }, runs: { type: "string", default: "3" } },
});
const tokens = Number(values.tokens);
const runs = Number(values.runs);
const tools = new ToolRegistry(createValidator()).list();
const newGraph = () =>
  buildAgentGraph({ model: new BenchChatModel(), tools, checkpointer: new MemorySaver() });

type Driver = (
  graph: ReturnType<typeof newGraph>,
  prompt: string,
  thread: string,
) => AsyncIterable<boolean>;

/** Yields true for each token. */
const drivers: Record<string, Driver> = {
  "streamEvents v2": async function* (graph, prompt, thread) {
    const input = { messages: [new HumanMessage(prompt)] };
    for await (const event of graph.streamEvents(input, {
      version: "v2",
      configurable: { thread_id: thread },
    })) {
      yield event.event === "on_chat_model_stream";
    }
  },
  "stream messages+updates": async function* (graph, prompt, thread) {
    const input = { messages: [new HumanMessage(prompt)] };
    const config = {
      streamMode: ["messages", "updates"] as ("messages" | "updates")[],
      configurable: { thread_id: thread },
    };
    for await (const [mode] of await graph.stream(input, config)) yield mode === "messages";
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(
  `| driver | tokens/s (${tokens} tokens, median of ${runs}) | first token p50 (ms, 50 runs) |`,
);
console.log("| --- | ---: | ---: |");
for (const [name, drive] of Object.entries(drivers)) {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    let count = 0;
    for await (const isToken of drive(newGraph(), benchPrompt(tokens), "throughput"))
      if (isToken) count++;
    rates.push(count / ((performance.now() - started) / 1000));
  }
  const graph = newGraph();
  const firsts: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    for await (const isToken of drive(graph, benchPrompt(1), `first-${i}`)) {
      if (isToken && firsts.length === i) firsts.push(performance.now() - started);
    }
  }
  console.log(
    `| ${name} | ${Math.round(median(rates)).toLocaleString("en")} | ${median(firsts.slice(10)).toFixed(2)} |`,
  );
}
