import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createChatModel, createCheckpointer, ModelHealth } from "../agents/index.js";
import type { Config } from "../core/config.js";
import { GraphRegistry } from "../graphs/graph-registry.js";
import type { GraphServices } from "../graphs/graph-services.js";
import { loadGraphs, type GraphSource } from "../graphs/load-graphs.js";
import type { ToolRegistry } from "../tools/tool-registry.js";

/** The model, the graphs and the checkpointer, built once per process. */
export interface AgentRuntime {
  readonly vendor: string;
  readonly graphs: GraphRegistry;
  /** Null while the model answers; a reason after AGENT_MODEL_FAILURES_NOT_READY failures in a row. */
  modelNotReadyReason(): string | null;
  close(): Promise<void>;
}

/**
 * `agentModel` replaces the configured model but keeps every other part of the
 * path (graphs, checkpointer, streaming); the benchmarks use it to stream a
 * controlled answer without a production setting for it. Throws, naming the
 * file, when a graph cannot be loaded.
 */
export async function createAgentRuntime(
  config: Config,
  tools: ToolRegistry,
  graphSources: GraphSource[],
  agentModel?: { model: BaseChatModel; vendor: string; endpoint?: string },
): Promise<AgentRuntime> {
  const { model, vendor, endpoint } = agentModel ?? createChatModel(config.agent);
  const health =
    endpoint === undefined
      ? undefined
      : new ModelHealth(endpoint, config.agent.modelFailuresNotReady);
  const { checkpointDatabaseUrl, threadTtlMs, maxThreads, historyMaxMessages } = config.agent;
  const checkpointer = await createCheckpointer(
    checkpointDatabaseUrl,
    { ttlMs: threadTtlMs, maxThreads },
    { schema: config.agent.checkpointDatabaseSchema },
  );
  const services: GraphServices = {
    model,
    tools: tools.list(),
    checkpointer: checkpointer.saver,
    historyMaxMessages,
    threadMaxMessages: config.agent.threadMaxMessages,
    ...(health ? { health } : {}),
  };
  try {
    const graphs = new GraphRegistry(
      await loadGraphs(graphSources, services),
      config.agent.defaultGraph,
      services,
    );
    return {
      vendor,
      graphs,
      modelNotReadyReason: () => health?.notReadyReason() ?? null,
      close: () => checkpointer.close(),
    };
  } catch (error) {
    await checkpointer.close(); // a PostgreSQL pool would keep the failed process alive
    throw error;
  }
}
