import { defineHandler, MessageId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "resume",
  description:
    "After a reconnect: sends this connection the stream's chunks with seq > after_seq (and its end, if over), then the live ones. trimmed_before: the first seq still stored, when older chunks asked for were dropped.",
  schema: Type.Object({ message_id: MessageId, after_seq: Type.Integer({ minimum: 0 }) }),
  async handle({ message_id, after_seq }, ctx) {
    const { trimmedBefore } = await ctx.runs.resume(message_id, after_seq);
    return trimmedBefore === undefined
      ? { message_id }
      : { message_id, trimmed_before: trimmedBefore };
  },
});
