import { defineHandler, GraphName, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "get_history",
  description:
    "The session's conversation with its graph (or the one named), oldest first: at most `limit` messages (≤ 100) before the message id `before`; has_more says older ones remain. Also names a run waiting for resume_run.",
  schema: Type.Object({
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    before: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    graph: Type.Optional(GraphName),
  }),
  handle({ limit, before, graph }, ctx) {
    return ctx.runs.history({ limit, ...(before ? { before } : {}), ...(graph ? { graph } : {}) });
  },
});
