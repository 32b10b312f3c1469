import type { Logger } from "../core/logger.js";
import type { ServerEventMap, ServerEventType } from "../core/protocol.js";
import type { ToolRegistry } from "../tools/tool-registry.js";
import type { AuthUser } from "../auth/authenticate.js";

export type Emit = <K extends ServerEventType>(type: K, data: ServerEventMap[K]) => void;

/** Project rooms as a handler sees them; access rules are applied by the core. */
export interface ProjectRooms {
  /** Joins this connection to the project's room; returns the member count. */
  join(projectId: string): Promise<number>;
  leave(projectId: string): Promise<number>;
  isMember(projectId: string): boolean;
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
}
