import type { WireError } from "./errors.js";

/** A graph's name: a file in graphs/ or a langgraph.json entry, as messages, auth and settings name it. */
export const GRAPH_NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,63}$";

/**
 * Payloads of the events the server sends, keyed by event name. Every event
 * also carries `type` (its own name) and `timestamp` (seconds since the epoch),
 * added by `serverEvent`. A handler that sends a new event type declares it by
 * merging into this interface from its own file:
 *
 *   declare module "../src/core/protocol.js" {
 *     interface ServerEventMap { my_event: { value: number } }
 *   }
 */
export interface ServerEventMap {
  connected: {
    connection_id: string;
    session_id: string;
    message: string;
    heartbeat: { interval_ms: number; timeout_ms: number };
  };
  error: WireError & { request_type?: string; message_id?: string };
  pong: Record<string, never>;
  tool_result: { tool_name: string; result: unknown; message_id?: string };
  tool_start: { message_id: string; tool_name: string; input: unknown };
  stream_start: {
    message_id: string;
    session_id: string;
    kind: "chat" | "discussion";
    graph: string;
    /** True when this continues an interrupted run (`resume_run`). */
    resumed?: boolean;
  };
  /** `namespace`: the subgraph path of the node that spoke, when it ran inside one. */
  stream_chunk: {
    message_id: string;
    seq: number;
    content: string;
    agent: string;
    namespace?: string[];
  };
  /** A graph's own event: `dispatchCustomEvent(name, data)`, or LangGraph's `config.writer(data)` (name null). */
  custom_event: {
    message_id: string;
    seq: number;
    name: string | null;
    data: unknown;
    namespace?: string[];
  };
  /** What a node wrote to the graph's state, to connections that asked (stream_modes: ["updates"]). */
  state_update: {
    message_id: string;
    seq: number;
    node: string;
    update: unknown;
    namespace?: string[];
  };
  /** The graph called `interrupt()`: the run waits for `resume_run`; no stream_end follows. */
  run_interrupted: {
    message_id: string;
    graph: string;
    interrupts: Array<{ id: string; value: unknown }>;
  };
  stream_end: { message_id: string; total_content: string };
  speaker_change: { message_id: string; agent: string; round: number };
  cancelled: { message_id: string; partial_content: string; reason: string };
  status: { status: "processing"; message_id: string };
  agent_response: { message_id: string; content: string; vendor: string };
  joined_project: { project_id: string; members: number };
  left_project: { project_id: string; members: number };
  user_feedback_response: { status: "received"; project_id: string };
  project_message: ProjectEventData;
  project_stage_update: ProjectEventData;
  project_status_change: ProjectEventData;
  /** From a project push (`project_id`) or an agent run (`message_id`). */
  progress_update: { data: Record<string, unknown>; project_id?: string; message_id?: string };
  agent_message: ProjectEventData;
  server_shutdown: { message: string; reconnect: boolean };
  /** Sent just before the server closes a connection whose JWT has expired. */
  token_expired: { message: string; expired_at: number };
}

/** Project pushes carry the project id plus whatever the sender put in `data`. */
export interface ProjectEventData {
  project_id: string;
  data: Record<string, unknown>;
  [key: string]: unknown;
}

export type ServerEventType = keyof ServerEventMap;
export type ServerEvent<K extends ServerEventType> = {
  type: K;
  timestamp: number;
} & ServerEventMap[K];

export const PROJECT_EVENT_TYPES = [
  "project_stage_update",
  "project_message",
  "project_status_change",
  "progress_update",
  "agent_message",
] as const satisfies readonly ServerEventType[];

export function serverEvent<K extends ServerEventType>(
  type: K,
  data: ServerEventMap[K],
): ServerEvent<K> {
  return { type, timestamp: Date.now() / 1000, ...data };
}

/** Acks answer every client event exactly once, in one of these two shapes. */
export type AckResponse = { ok: true; data: unknown } | { ok: false; error: WireError };

/** Sends one server event; `serverEvent` adds its `type` and `timestamp`. */
export type Emit = <K extends ServerEventType>(type: K, data: ServerEventMap[K]) => void;
