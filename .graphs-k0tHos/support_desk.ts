/**
 * A graph as a LangGraph developer writes it, knowing nothing of the gateway:
 * a triage subgraph that classifies the request (a custom event, a writer
 * event and a fixed reply no model streams), then a person decides whether to
 * escalate (interrupt). Compiled without a checkpointer: the server lends one.
 */
import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import { AIMessage } from "@langchain/core/messages";
import {
  END,
  interrupt,
  MessagesAnnotation,
  START,
  StateGraph,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";

export const description = "Triage a support request, then ask a person whether to escalate it.";

const triage = new StateGraph(MessagesAnnotation)
  .addNode("classify", async (state, config: LangGraphRunnableConfig) => {
    const text = state.messages.at(-1)?.text ?? "";
    const category = /invoice|refund|charge/i.test(text) ? "billing" : "general";
    await dispatchCustomEvent("classified", { category }, config);
    config.writer?.({ step: "classified", category });
    return { messages: [new AIMessage(`This looks like a ${category} question.`)] };
  })
  .addEdge(START, "classify")
  .addEdge("classify", END)
  .compile();

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("triage", triage)
  .addNode("confirm", () => {
    const escalate = interrupt<{ question: string }, boolean>({
      question: "Escalate to a person?",
    });
    return {
      messages: [
        new AIMessage(escalate === true ? "Escalated to a person." : "Closed without escalation."),
      ],
    };
  })
  .addEdge(START, "triage")
  .addEdge("triage", "confirm")
  .addEdge("confirm", END)
  .compile();
