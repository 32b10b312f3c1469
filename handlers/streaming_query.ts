import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "streaming_query",
  description: "The seeds' name for message: streams the agent's answer to {query}.",
  schema: Type.Object({ query: Type.String({ minLength: 1, maxLength: 32000 }) }),
  handle({ query }, ctx) {
    return ctx.runs.submit({ kind: "chat", content: query });
  },
});
