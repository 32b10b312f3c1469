import { defineHandler, MessageId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "message",
  description:
    "Sends a message to the session's agent. The ack carries the message_id at once; the session then gets stream_start, stream_chunk…, stream_end.",
  schema: Type.Object({
    content: Type.String({ minLength: 1, maxLength: 32000 }),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    message_id: Type.Optional(MessageId),
  }),
  handle({ content, metadata, message_id }, ctx) {
    return ctx.runs.submit(
      { kind: "chat", content, ...(metadata ? { metadata } : {}) },
      message_id,
    );
  },
});
