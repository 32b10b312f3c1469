/**
 * Schema fragments several handlers share, defined once so a message id or a
 * project id means the same thing in every payload that carries one.
 */
import { Type } from "@sinclair/typebox";
import { GRAPH_NAME_PATTERN } from "../core/protocol.js";

/** Client-chosen message ids let a client correlate before the ack arrives. */
export const MessageId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9_.:-]+$",
});

export const ProjectId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9_.:-]+$",
});

/** A discussion participant as a client names it; the name is also a graph node's name. */
export const Participant = Type.Object({
  name: Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$", description: "Also the speaker's label" }),
  style: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

/** A graph's name: a file in graphs/ or an entry of langgraph.json (docs/graphs.md). */
export const GraphName = Type.String({ pattern: GRAPH_NAME_PATTERN });

/** Stream modes a client may ask for beside tokens, tools and custom events. */
export const StreamModes = Type.Array(Type.Literal("updates"), { maxItems: 1, uniqueItems: true });
