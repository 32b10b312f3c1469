/** What a handler asks the run service for (docs/graphs.md). */

/** The run's config beside its input, as LangGraph takes it. */
export interface RunConfig {
  /** Keys a graph (or its factory) reads from `config.configurable`. */
  configurable?: Record<string, unknown>;
  /** LangGraph's step limit (25 when not given). */
  recursionLimit?: number;
  /** Tags for tracing, passed on to every callback. */
  metadata?: Record<string, unknown>;
}

/** Stream modes a client may ask for on top of tokens, tools and custom events. */
export type ExtraStreamMode = "updates";

export interface RunRequest {
  /** The graph to run: the session's default (`auth.graph`), else AGENT_DEFAULT_GRAPH. */
  graph?: string;
  /** The graph's input: any JSON its state takes, e.g. `{messages: [{role: "user", content}]}`. */
  input: unknown;
  config?: RunConfig;
  /** `stream` (default): stream_start, chunks, stream_end. `response`: status, then one agent_response. */
  output?: "stream" | "response";
  /** Nodes that speak in turns (a discussion): each one's start is a speaker_change. */
  speakers?: { names: string[]; rounds: number };
  /** `updates`: the run also sends state_update events, to the sender and to connections that asked at connection. */
  streamModes?: readonly ExtraStreamMode[];
}

/** LangGraph's `Command` for an interrupted run (`resume_run`). */
export interface ResumeCommand {
  /** The answer to the interrupt, or `{<interrupt id>: answer}` for several. */
  resume?: unknown;
  /** State to write before the graph goes on. */
  update?: Record<string, unknown>;
  /** Node(s) to go to instead of the interrupted one. */
  goto?: string | string[];
}

export interface SubmittedRun {
  message_id: string;
  /** Runs waiting ahead of this one in the session (0: it started at once). */
  queue_position: number;
}

/** One message of a conversation as `get_history` answers it. */
export interface HistoryMessage {
  id: string | null;
  role: "user" | "assistant" | "tool" | "system";
  content: string;
  tool_calls?: Array<{ id: string | null; name: string; args: unknown }>;
  tool_call_id?: string;
  name?: string;
}

export interface HistoryPage {
  graph: string;
  messages: HistoryMessage[];
  /** Older messages remain: ask again with `before` set to the first message's id. */
  has_more: boolean;
  /** The run waiting for `resume_run`, if any. */
  interrupted?: { message_id: string; interrupts: Array<{ id: string; value: unknown }> };
}

/** The input a chat message gives a graph with a `messages` state (the one place this shape is written). */
export function userTurn(content: string): { messages: Array<{ role: "user"; content: string }> } {
  return { messages: [{ role: "user", content }] };
}
