import type { Static, TSchema } from "@sinclair/typebox";
import type { AckResponse, ServerEvent, ServerEventType } from "../core/protocol.js";
import type { WireError } from "../core/errors.js";
import type { HandlerDefinition } from "../registry/define-handler.js";
import type agentQuery from "../../handlers/agent_query.js";
import type cancel from "../../handlers/cancel.js";
import type chatMessage from "../../handlers/chat_message.js";
import type joinProject from "../../handlers/join_project.js";
import type leaveProject from "../../handlers/leave_project.js";
import type message from "../../handlers/message.js";
import type ping from "../../handlers/ping.js";
import type projectUpdate from "../../handlers/project_update.js";
import type resume from "../../handlers/resume.js";
import type startConversation from "../../handlers/start_conversation.js";
import type streamingQuery from "../../handlers/streaming_query.js";
import type toolCall from "../../handlers/tool_call.js";
import type userFeedback from "../../handlers/user_feedback.js";

/**
 * Typed Socket.IO client events, for `io<ServerToClientEvents, ClientToServerEvents>(url)`.
 * Type-only: importing this costs a client nothing at run time. The handler
 * list mirrors handlers/ (test/client-types.test.ts keeps them equal).
 */
interface Handlers {
  agent_query: typeof agentQuery;
  cancel: typeof cancel;
  chat_message: typeof chatMessage;
  join_project: typeof joinProject;
  leave_project: typeof leaveProject;
  message: typeof message;
  ping: typeof ping;
  project_update: typeof projectUpdate;
  resume: typeof resume;
  start_conversation: typeof startConversation;
  streaming_query: typeof streamingQuery;
  tool_call: typeof toolCall;
  user_feedback: typeof userFeedback;
}

type PayloadOf<H> =
  H extends HandlerDefinition<infer S extends TSchema, unknown> ? Static<S> : never;
type DataOf<H> = H extends HandlerDefinition<TSchema, infer R> ? Awaited<R> : never;

/** What an ack carries for event `K`: the handler's result, or an error. */
export type Ack<K extends ClientEventType> =
  { ok: true; data: DataOf<Handlers[K]> } | { ok: false; error: WireError };

export type ClientEventType = keyof Handlers;
export type ClientEventPayload<K extends ClientEventType> = PayloadOf<Handlers[K]>;

export type ClientToServerEvents = {
  [K in ClientEventType]: (payload: ClientEventPayload<K>, ack: (response: Ack<K>) => void) => void;
};

export type ServerToClientEvents = {
  [K in ServerEventType]: (event: ServerEvent<K>) => void;
};

export type { AckResponse, ServerEvent, ServerEventType, WireError };
