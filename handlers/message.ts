import {
  defineHandler,
  GraphName,
  MessageId,
  StreamModes,
  Type,
  userTurn,
} from "../src/handler-kit.js";

export default defineHandler({
  type: "message",
  description:
    "Sends a message to the session's graph (or the one named). The ack carries the message_id at once; the session then gets stream_start, stream_chunk…, stream_end (or run_interrupted).",
  schema: Type.Object({
    content: Type.String({ minLength: 1, maxLength: 32000 }),
    graph: Type.Optional(GraphName),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    message_id: Type.Optional(MessageId),
    stream_modes: Type.Optional(StreamModes),
  }),
  handle({ content, graph, metadata, message_id, stream_modes }, ctx) {
    return ctx.runs.submit(
      {
        input: userTurn(content),
        ...(graph ? { graph } : {}),
        ...(metadata ? { config: { metadata } } : {}),
        ...(stream_modes ? { streamModes: stream_modes } : {}),
      },
      message_id,
    );
  },
});
