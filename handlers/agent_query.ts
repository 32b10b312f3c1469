import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "agent_query",
  description: "Asks the agent without streaming: status {processing}, then one agent_response.",
  schema: Type.Object({ query: Type.String({ minLength: 1, maxLength: 32000 }) }),
  handle({ query }, ctx) {
    return ctx.runs.submit({ kind: "query", content: query });
  },
});
