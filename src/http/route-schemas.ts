import { Type, type TSchema } from "@sinclair/typebox";
import { ErrorCodes } from "../core/errors.js";
import { PROJECT_EVENT_TYPES } from "../core/protocol.js";

/**
 * The REST routes' schemas: routes.ts validates bodies with them and
 * openapi.ts describes the routes from them, so the two cannot disagree.
 */
export const ProjectEventBody = Type.Object(
  {
    type: Type.Union(PROJECT_EVENT_TYPES.map((t) => Type.Literal(t))),
    data: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  },
  { additionalProperties: false },
);

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.Union(Object.keys(ErrorCodes).map((c) => Type.Literal(c))),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});

export const Health = Type.Object({ status: Type.Literal("ok") });

export const Readiness = Type.Union([
  Type.Object({ status: Type.Literal("ready") }),
  Type.Object({ status: Type.Literal("not_ready"), reason: Type.String() }),
]);

export const Statistics = Type.Object({
  active_connections: Type.Integer(),
  total_connections: Type.Integer(),
  total_messages: Type.Integer(),
  connections_visible: Type.Boolean({ description: "True with the API key" }),
  connections: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String(),
        session_id: Type.String(),
        node_id: Type.String(),
        connected_at: Type.Number({ description: "Seconds since the epoch" }),
        message_count: Type.Integer(),
        uptime: Type.Number({ description: "Seconds" }),
      }),
    ),
  ),
});

export const SessionInfo = Type.Object({
  session_id: Type.String(),
  connections: Type.Array(
    Type.Object({ id: Type.String(), node_id: Type.String(), connected_at: Type.Number() }),
  ),
  run_active: Type.Boolean(),
  active_run: Type.Union([
    Type.Null(),
    Type.Object({ message_id: Type.String(), node_id: Type.String(), started_at: Type.Number() }),
  ]),
});

export const HandlerList = Type.Object({
  handlers: Type.Array(
    Type.Object({
      type: Type.String(),
      description: Type.String(),
      schema: Type.Unknown({ description: "The payload's JSON Schema" }),
      timeout_ms: Type.Optional(Type.Integer()),
    }),
  ),
});

export const GraphList = Type.Object({
  graphs: Type.Array(
    Type.Object({
      name: Type.String({ description: "What a message's `graph` names" }),
      description: Type.String(),
      input_keys: Type.Array(Type.String(), { description: "The graph's state keys" }),
      stateful: Type.Boolean({ description: "Runs keep a conversation in the checkpointer" }),
      default: Type.Boolean({ description: "AGENT_DEFAULT_GRAPH" }),
    }),
  ),
});

export const ProjectEventSent = Type.Object({
  status: Type.Literal("sent"),
  project_id: Type.String(),
  type: Type.String(),
});

export const JsonDocument: TSchema = Type.Object({}, { additionalProperties: true });
