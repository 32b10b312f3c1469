import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "streaming_query",
  description:
    "Streams the agent's answer to {query}: message under the name the earlier systems' protocols (agent-engine) use.",
  schema: Type.Object({ query: Type.String({ minLength: 1, maxLength: 32000 }) }),
  handle({ query }, ctx) {
    return ctx.runs.submit({ kind: "chat", content: query });
  },
});
