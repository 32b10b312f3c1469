/** Two interrupts raised at once by two parallel nodes: resumed with {<interrupt id>: answer}. */
import { AIMessage } from "@langchain/core/messages";
import {
  Annotation,
  END,
  interrupt,
  MessagesAnnotation,
  START,
  StateGraph,
} from "@langchain/langgraph";

const State = Annotation.Root({
  ...MessagesAnnotation.spec,
  answers: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export const graph = new StateGraph(State)
  .addNode("ask_name", () => ({ answers: [`name=${String(interrupt("Your name?"))}`] }))
  .addNode("ask_city", () => ({ answers: [`city=${String(interrupt("Your city?"))}`] }))
  .addNode("summarize", (state) => ({
    messages: [new AIMessage([...state.answers].sort().join(", "))],
  }))
  .addEdge(START, "ask_name")
  .addEdge(START, "ask_city")
  .addEdge(["ask_name", "ask_city"], "summarize")
  .addEdge("summarize", END)
  .compile();
