import type { Logger } from "../core/logger.js";
import type { Emit, ServerEventMap, ServerEventType } from "../core/protocol.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import type { AuthUser } from "../auth/authenticate.js";
import type { BackendEventKind } from "../backend/backend-channel.js";
import type { HistoryPage, ResumeCommand, RunRequest, SubmittedRun } from "../runs/run-request.js";

export type { Emit } from "../core/protocol.js";

/** Project rooms as a handler sees them; access rules are applied by the core. */
export interface ProjectRooms {
  /** Joins this connection to the project's room; returns the member count. */
  join(projectId: string): Promise<number>;
  leave(projectId: string): Promise<number>;
  isMember(projectId: string): boolean;
}

/** The session's agent runs, as seen from one connection. */
export interface SessionRunControl {
  /**
   * Starts (or queues, per AGENT_MULTITASK) a run of any graph with any JSON
   * input; resolves with its message id before the first token.
   */
  submit(request: RunRequest, messageId?: string): Promise<SubmittedRun>;
  /** Continues the session's run that paused at interrupt(); `not_interrupted` when none waits. */
  resumeRun(messageId: string, command: ResumeCommand): Promise<SubmittedRun>;
  /** The session's conversation with its graph (or the one named), from the checkpointer. */
  history(query: { limit: number; before?: string; graph?: string }): Promise<HistoryPage>;
  /** Cancels the named run, or the session's current one; `not_found` when there is none. */
  cancel(messageId?: string): Promise<{ message_id: string }>;
  /**
   * Sends this connection the stream's events after `afterSeq`, then the live ones.
   * `trimmedBefore`: the first seq still stored, when the history cap dropped some asked for.
   */
  resume(messageId: string, afterSeq: number): Promise<{ trimmedBefore?: number }>;
  /** The model vendor, e.g. "demo" or "openai". */
  readonly vendor: string;
}

/** The back end's channel as a handler sees it (docs/backend.md). */
export interface BackendLink {
  /** False when no channel is configured: events then reach only the project room. */
  readonly connected: boolean;
  /** Hands the event to the channel (at least once, never waits); returns its id. */
  publish(kind: BackendEventKind, projectId: string, data: Record<string, unknown>): string;
}

/** Everything a handler may touch, and nothing more. One context per connection. */
export interface HandlerContext {
  readonly connectionId: string;
  readonly sessionId: string;
  readonly user: AuthUser | null;
  readonly log: Logger;
  /** Fires when the connection closes. */
  readonly signal: AbortSignal;
  /** To this connection only. */
  readonly emit: Emit;
  /** To every connection of the session, this one included. */
  readonly emitToSession: Emit;
  emitToProject<K extends ServerEventType>(
    projectId: string,
    type: K,
    data: ServerEventMap[K],
  ): void;
  readonly projects: ProjectRooms;
  readonly tools: ToolRegistry;
  readonly runs: SessionRunControl;
  readonly backend: BackendLink;
}
