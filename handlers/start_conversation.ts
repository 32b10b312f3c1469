import {
  DEFAULT_PERSONAS,
  defineHandler,
  discussionStepLimit,
  GatewayError,
  MessageId,
  Participant,
  Type,
  WithDefault,
} from "../src/handler-kit.js";

export default defineHandler({
  type: "start_conversation",
  description:
    "Starts a multi-agent discussion: each participant speaks in turn for `rounds` rounds, streamed with speaker_change and stream_chunk.",
  schema: Type.Object({
    topic: Type.String({ minLength: 1, maxLength: 2000 }),
    participants: Type.Optional(Type.Array(Participant, { minItems: 2, maxItems: 6 })),
    rounds: WithDefault(Type.Integer({ minimum: 1, maximum: 10 }), 2),
    message_id: Type.Optional(MessageId),
  }),
  handle({ topic, participants, rounds, message_id }, ctx) {
    const personas =
      participants?.map((p) => ({ name: p.name, style: p.style ?? `speaks as ${p.name}` })) ??
      DEFAULT_PERSONAS;
    if (new Set(personas.map((p) => p.name)).size !== personas.length) {
      throw new GatewayError("invalid_payload", "Participant names must be unique");
    }
    return ctx.runs.submit(
      {
        graph: "discussion",
        input: { topic },
        config: {
          configurable: { participants: personas, rounds },
          recursionLimit: discussionStepLimit(personas.length, rounds),
        },
        speakers: { names: personas.map((p) => p.name), rounds },
      },
      message_id,
    );
  },
});
