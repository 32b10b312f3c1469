/**
 * A small approval graph to copy: the model drafts an answer, a person
 * approves, rejects or edits it, and the graph sends what was approved.
 * It shows each thing a graph can say to the gateway's clients:
 * tokens (the draft), a custom event, an interrupt, and a message that no
 * model streamed (the final reply). docs/graphs.md walks through it.
 */
import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import { AIMessage, SystemMessage } from "@langchain/core/messages";
import {
  END,
  interrupt,
  MessagesAnnotation,
  START,
  StateGraph,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";
import { gatewayServices, type GraphFactoryConfig } from "../src/graph-kit.js";

export const description =
  "Drafts an answer, then waits for a person to approve, reject or edit it (interrupt) before sending it.";

/** What the person answers: true / false, or {edit: "the text to send instead"}. */
type Review = boolean | { approved?: boolean; edit?: string };

export function graph(config: GraphFactoryConfig) {
  const { model } = gatewayServices(config);

  async function draft(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    const reply = await model.invoke(
      [new SystemMessage("Draft a short answer for a person to review."), ...state.messages],
      config,
    );
    return { messages: [reply] };
  }

  async function review(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
    const drafted = state.messages.at(-1)?.text ?? "";
    await dispatchCustomEvent("review_requested", { characters: drafted.length }, config);
    // The run pauses here; resume_run's `resume` becomes the value interrupt() returns.
    const answer = interrupt<{ question: string; draft: string }, Review>({
      question: "Send this answer?",
      draft: drafted,
    });
    const approved = typeof answer === "boolean" ? answer : answer.approved !== false;
    const edit = typeof answer === "object" ? answer.edit : undefined;
    config.writer?.({ reviewed: approved ? "approved" : "rejected" });
    const text = !approved ? "The draft was rejected." : `Sent: ${edit ?? drafted}`;
    return { messages: [new AIMessage(text)] };
  }

  return new StateGraph(MessagesAnnotation)
    .addNode("draft", draft)
    .addNode("review", review)
    .addEdge(START, "draft")
    .addEdge("draft", "review")
    .addEdge("review", END)
    .compile();
}
