import { defineHandler, GraphName, Type, userTurn } from "../src/handler-kit.js";

export default defineHandler({
  type: "agent_query",
  description: "Asks the agent without streaming: status {processing}, then one agent_response.",
  schema: Type.Object({
    query: Type.String({ minLength: 1, maxLength: 32000 }),
    graph: Type.Optional(GraphName),
  }),
  handle({ query, graph }, ctx) {
    return ctx.runs.submit({
      input: userTurn(query),
      output: "response",
      ...(graph ? { graph } : {}),
    });
  },
});
