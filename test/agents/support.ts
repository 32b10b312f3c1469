import type { StreamEvent } from "@langchain/core/tracers/log_stream";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { loadConfig, type Config } from "../../src/core/config.js";
import { createValidator } from "../../src/core/validator.js";
import { ToolRegistry } from "../../src/tools/tool-registry.js";

/** The gateway's real tools, as the run manager hands them to the agent graph. */
export function gatewayTools(): StructuredToolInterface[] {
  return new ToolRegistry(createValidator()).list();
}

/** The agent settings from a test environment, through the real config loader. */
export function agentConfig(env: Record<string, string> = {}): Config["agent"] {
  return loadConfig(env).agent;
}

export async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** The text tokens streamed by the model, optionally only those from one graph node. */
export function tokens(events: StreamEvent[], node?: string): string[] {
  return events
    .filter((e) => e.event === "on_chat_model_stream")
    .filter((e) => node === undefined || e.metadata["langgraph_node"] === node)
    .map((e) => chunkOf(e).content)
    .filter((content): content is string => typeof content === "string" && content !== "");
}

/** The message chunk an on_chat_model_stream event carries. */
export function chunkOf(event: StreamEvent): AIMessageChunk {
  return event.data["chunk"] as AIMessageChunk;
}

export function named(events: StreamEvent[], event: string, name?: string): StreamEvent[] {
  return events.filter((e) => e.event === event && (name === undefined || e.name === name));
}
