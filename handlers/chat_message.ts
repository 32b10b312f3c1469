import { defineHandler, Type, userTurn } from "../src/handler-kit.js";

/**
 * An http(s) URL, or a relative path with no `..` segment: the gateway never
 * fetches or opens it, only passes it on in the run's metadata, but a back
 * end that does must not be steered to a local file or another scheme.
 */
const IMAGE_PATH =
  "^(?:https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\\s]*)?" +
  "|(?![/])(?!(?:.*/)?[.][.](?:/|$))[A-Za-z0-9._~%!$&'()*+,;=@/-]+)$";

const HistoryItem = Type.Object({
  role: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  // The chat page's own message objects carry {text}; plain clients send a string.
  content: Type.Union([
    Type.String({ maxLength: 32000 }),
    Type.Object({ text: Type.Optional(Type.String({ maxLength: 32000 })) }),
  ]),
});

export default defineHandler({
  type: "chat_message",
  description:
    "The Flask-SocketIO chat protocol's message: {history, current_text, current_image_paths}; streams the agent's answer like message. Image paths are validated, never fetched.",
  schema: Type.Object({
    current_text: Type.String({ minLength: 1, maxLength: 32000 }),
    // The session's conversation already holds what was said; the history is checked, not replayed.
    history: Type.Array(HistoryItem, { maxItems: 100, default: [] }),
    current_image_paths: Type.Array(
      Type.String({ minLength: 1, maxLength: 2048, pattern: IMAGE_PATH }),
      {
        maxItems: 8,
        default: [],
      },
    ),
  }),
  handle({ current_text, current_image_paths }, ctx) {
    const metadata =
      current_image_paths.length > 0 ? { image_paths: current_image_paths } : undefined;
    return ctx.runs.submit({
      input: userTurn(current_text),
      ...(metadata ? { config: { metadata } } : {}),
    });
  },
});
