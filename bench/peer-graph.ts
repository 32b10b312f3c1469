/**
 * The graph LangGraph Server serves in `npm run bench:peers`: the gateway's own
 * agent graph and tools with the zero-delay bench model. The server swaps in
 * its own checkpointer when it loads a graph (getGraph sets
 * `compiled.checkpointer`), so the MemorySaver given here is never used; it is
 * only there because buildAgentGraph requires one.
 */
import { MemorySaver } from "@langchain/langgraph";
import { buildAgentGraph } from "../src/agents/index.js";
import { createValidator } from "../src/core/validator.js";
import { ToolRegistry } from "../src/tools/tool-registry.js";
import { BenchChatModel } from "./bench-model.js";

export const graph = buildAgentGraph({
  model: new BenchChatModel(),
  tools: new ToolRegistry(createValidator()).list(),
  checkpointer: new MemorySaver(),
});
