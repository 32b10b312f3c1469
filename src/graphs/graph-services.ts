/** What the gateway lends a graph file: its model, tools and checkpointer (docs/graphs.md). */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { BaseCheckpointSaver, LangGraphRunnableConfig } from "@langchain/langgraph";
import type { ModelHealth, TrackedSaver } from "../agents/index.js";

export interface GraphServices {
  /** AGENT_MODEL's chat model (the offline demo model by default). */
  model: BaseChatModel;
  /** The tools of src/tools/ (calculator, current_time). */
  tools: StructuredToolInterface[];
  /** The gateway's checkpointer: memory, or PostgreSQL with CHECKPOINT_DATABASE_URL. */
  checkpointer: TrackedSaver<BaseCheckpointSaver>;
  /** AGENT_HISTORY_MAX_MESSAGES: the newest messages a model should see. */
  historyMaxMessages: number;
  /** AGENT_THREAD_MAX_MESSAGES: the most messages a stored conversation keeps. */
  threadMaxMessages: number;
  /** Counts the configured model's failures for /readyz; absent for the demo model. */
  health?: ModelHealth;
}

/**
 * What a graph factory (`export const graph = (config) => …`) is called with:
 * LangGraph's run config, as LangGraph Server passes it, plus the gateway's
 * services under `gateway`. A factory written for LangGraph Server ignores it.
 */
export type GraphFactoryConfig = LangGraphRunnableConfig & { gateway: GraphServices };

/** The services of a factory's config; throws a clear error outside the gateway. */
export function gatewayServices(config: LangGraphRunnableConfig): GraphServices {
  const services = (config as Partial<GraphFactoryConfig>).gateway;
  if (!services) {
    throw new Error("This graph needs the gateway's services: it runs only inside the gateway");
  }
  return services;
}
