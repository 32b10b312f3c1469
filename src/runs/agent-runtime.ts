import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  buildAgentGraph,
  buildDiscussionGraph,
  createChatModel,
  createCheckpointer,
  ModelHealth,
  type Persona,
} from "../agents/index.js";
import type { Config } from "../core/config.js";
import type { ToolRegistry } from "../tools/tool-registry.js";

export type ChatGraph = ReturnType<typeof buildAgentGraph>;
export type DiscussionGraph = ReturnType<typeof buildDiscussionGraph>;

/** The model, its compiled graphs and the checkpointer, built once per process. */
export interface AgentRuntime {
  readonly vendor: string;
  readonly chatGraph: ChatGraph;
  discussionGraph(participants: Persona[], rounds: number): DiscussionGraph;
  /** Null while the model answers; a reason after AGENT_MODEL_FAILURES_NOT_READY failures in a row. */
  modelNotReadyReason(): string | null;
  close(): Promise<void>;
}

/**
 * `agentModel` replaces the configured model but keeps every other part of the
 * path (graphs, checkpointer, streaming); the benchmarks use it to stream a
 * controlled answer without a production setting for it.
 */
export async function createAgentRuntime(
  config: Config,
  tools: ToolRegistry,
  agentModel?: { model: BaseChatModel; vendor: string; endpoint?: string },
): Promise<AgentRuntime> {
  const { model, vendor, endpoint } = agentModel ?? createChatModel(config.agent);
  const health =
    endpoint === undefined
      ? undefined
      : new ModelHealth(endpoint, config.agent.modelFailuresNotReady);
  const { checkpointDatabaseUrl, threadTtlMs, maxThreads, historyMaxMessages } = config.agent;
  const checkpointer = await createCheckpointer(checkpointDatabaseUrl, {
    ttlMs: threadTtlMs,
    maxThreads,
  });
  const chatGraph = buildAgentGraph({
    model,
    tools: tools.list(),
    checkpointer: checkpointer.saver,
    historyMaxMessages,
    threadMaxMessages: config.agent.threadMaxMessages,
    health,
  });
  return {
    vendor,
    chatGraph,
    discussionGraph: (participants, rounds) =>
      buildDiscussionGraph({ model, participants, rounds }),
    modelNotReadyReason: () => health?.notReadyReason() ?? null,
    close: () => checkpointer.close(),
  };
}
