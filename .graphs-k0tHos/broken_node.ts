/** A graph whose second node always throws, as a graph with a failing dependency does. */
import { AIMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("fetch_account", () => ({ messages: [new AIMessage("Looking up your account.")] }))
  .addNode("charge_card", () => {
    throw new Error("payment service is down");
  })
  .addEdge(START, "fetch_account")
  .addEdge("fetch_account", "charge_card")
  .addEdge("charge_card", END)
  .compile();
