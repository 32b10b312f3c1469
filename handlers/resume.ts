import { defineHandler, Type } from "../src/handler-kit.js";
import { MessageId } from "./message.js";

export default defineHandler({
  type: "resume",
  description:
    "After a reconnect: sends this connection the stream's chunks with seq > after_seq (and its end, if over), then the live ones.",
  schema: Type.Object({ message_id: MessageId, after_seq: Type.Integer({ minimum: 0 }) }),
  async handle({ message_id, after_seq }, ctx) {
    await ctx.runs.resume(message_id, after_seq);
    return { message_id };
  },
});
