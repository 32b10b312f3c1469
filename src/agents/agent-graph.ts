import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  SystemMessage,
  ToolMessage,
  trimMessages,
  type BaseMessage,
} from "@langchain/core/messages";
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
import type { ModelHealth } from "./model-health.js";
import { messagesToRemove } from "./thread-trim.js";

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
  /** AGENT_HISTORY_MAX_MESSAGES: the newest messages the model sees, besides the system prompt. */
  historyMaxMessages?: number;
  /** AGENT_THREAD_MAX_MESSAGES: the newest messages the stored thread keeps. */
  threadMaxMessages?: number;
  /** Counts the model's failures for readiness and names its server in their errors. */
  health?: ModelHealth;
}) {
  const {
    model,
    tools,
    checkpointer,
    historyMaxMessages = DEFAULT_HISTORY_MAX_MESSAGES,
    threadMaxMessages = DEFAULT_THREAD_MAX_MESSAGES,
    health,
  } = opts;
  let bound: Runnable<BaseMessage[], BaseMessage> = model;
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
    const history = await newestMessages(
      answerDanglingToolCalls(state.messages),
      historyMaxMessages,
    );
    try {
      const response = await bound.invoke([new SystemMessage(SYSTEM_PROMPT), ...history], config);
      health?.succeeded();
      // One place is left for the response.
      return { messages: [...messagesToRemove(state.messages, threadMaxMessages - 1), response] };
    } catch (error) {
      // A cancelled run says nothing about the model.
      if (!health || config.signal?.aborted) throw error;
      throw health.failed(error);
    }
  }

  return new StateGraph(MessagesAnnotation)
    .addNode("agent", agent)
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile({ checkpointer });
}

const DEFAULT_HISTORY_MAX_MESSAGES = 50;
const DEFAULT_THREAD_MAX_MESSAGES = 200;

/**
 * The prompt's cost follows the thread's length, so the model sees only the
 * newest messages, oldest dropped first. The kept part never opens with a
 * tool result whose call was dropped: providers reject such a history.
 */
export function newestMessages(messages: BaseMessage[], max: number): Promise<BaseMessage[]> {
  return trimMessages(messages, {
    strategy: "last",
    maxTokens: max,
    tokenCounter: (kept) => kept.length,
    startOn: ["human", "ai"],
  });
}

/**
 * A run cancelled between the model's tool call and the tool's answer leaves
 * a call without a result in the thread, and OpenAI rejects such a history.
 * The prompt (not the stored thread) gets a stand-in answer for each.
 */
export function answerDanglingToolCalls(messages: BaseMessage[]): BaseMessage[] {
  const answered = new Set(
    messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m)).map((m) => m.tool_call_id),
  );
  return messages.flatMap((message, i) => {
    if (!AIMessage.isInstance(message)) return [message];
    const next = messages[i + 1];
    const missing = (message.tool_calls ?? []).filter(
      (call) => call.id !== undefined && !answered.has(call.id),
    );
    // Only calls that will never be answered: the last message's calls are the ones being run now.
    if (missing.length === 0 || next === undefined) return [message];
    return [
      message,
      ...missing.map(
        (call) =>
          new ToolMessage({
            tool_call_id: call.id as string,
            name: call.name,
            status: "error",
            content: "Cancelled: the run stopped before this tool answered.",
          }),
      ),
    ];
  });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;
