import { defineHandler, GraphName, Type, userTurn } from "../src/handler-kit.js";

export default defineHandler({
  type: "streaming_query",
  description:
    "Streams the agent's answer to {query}: message under the name the agent-engine protocol uses.",
  schema: Type.Object({
    query: Type.String({ minLength: 1, maxLength: 32000 }),
    graph: Type.Optional(GraphName),
  }),
  handle({ query, graph }, ctx) {
    return ctx.runs.submit({
      input: userTurn(query),
      ...(graph ? { graph } : {}),
    });
  },
});
