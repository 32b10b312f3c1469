import { defineHandler, MessageId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "cancel",
  description:
    "Cancels the session's current run, or the named one; the session gets cancelled {partial_content}.",
  schema: Type.Object({ message_id: Type.Optional(MessageId) }),
  handle({ message_id }, ctx) {
    return ctx.runs.cancel(message_id);
  },
});
