import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { SystemMessage } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import {
  END,
  MessagesAnnotation,
  START,
  StateGraph,
  type BaseCheckpointSaver,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";

const SYSTEM_PROMPT =
  "You are a helpful assistant inside a real-time gateway. Use the calculator tool for any arithmetic and the current_time tool for the date or time; never guess them. Keep answers short.";

/**
 * The chat agent: "agent" calls the model, "tools" runs the tool calls it
 * asked for, and the loop ends when the model answers without a tool call.
 * The conversation lives in the checkpointer under `configurable.thread_id`.
 */
export function buildAgentGraph(opts: {
  model: BaseChatModel;
  tools: StructuredToolInterface[];
  checkpointer: BaseCheckpointSaver;
}) {
  const { model, tools, checkpointer } = opts;
  let bound: Runnable = model;
  if (tools.length > 0) {
    if (!model.bindTools) throw new Error(`Model "${model._llmType()}" cannot use tools`);
    bound = model.bindTools(tools);
  }

  // Passing the node's config on keeps the model call inside the node's run:
  // callbacks reach streamEvents, metadata.langgraph_node names the node, and
  // the run's abort signal stops the model.
  async function agent(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    // The system prompt is added per call rather than stored, so it can change
    // without rewriting saved conversations.
    const response: unknown = await bound.invoke(
      [new SystemMessage(SYSTEM_PROMPT), ...state.messages],
      config,
    );
    return { messages: [response as typeof MessagesAnnotation.Update.messages] };
  }

  return new StateGraph(MessagesAnnotation)
    .addNode("agent", agent)
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile({ checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
