/**
 * Shared state behind small async interfaces. The in-memory implementation
 * serves one node; a Redis implementation serves a cluster. Both pass the
 * same suite (test/state.test.ts).
 */

/** How a client is connected: Socket.IO, or plain WebSocket frames of JSON. */
export type TransportName = "socketio" | "ws";

export interface ConnectionInfo {
  id: string;
  /** Absent in entries written before transports were recorded: Socket.IO. */
  transport?: TransportName;
  sessionId: string;
  userId: string | null;
  nodeId: string;
  /** Milliseconds since the epoch. */
  connectedAt: number;
}

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerSession: number;
  /** How long a session remembers its owner after its last admission or release. */
  ownerTtlMs: number;
  /** Sessions whose owner is remembered at once; a new session beyond it is refused. */
  maxSessions: number;
}

export type RefusalReason = "session_full" | "server_full" | "forbidden" | "too_many_sessions";

export type AdmitResult = { admitted: true } | { admitted: false; reason: RefusalReason };

export interface ConnectionStats extends ConnectionInfo {
  messageCount: number;
}

export interface Statistics {
  activeConnections: number;
  totalConnections: number;
  totalMessages: number;
  connections: ConnectionStats[];
}

export interface ConnectionRegistry {
  /**
   * Adds the connection unless a cap is reached or the session belongs to
   * another principal (a user, or anonymous). A session remembers its owner
   * from its first admission until `ownerTtlMs` after its last admission or
   * release, connected or not. Check and insert are one atomic step, so two
   * nodes cannot both admit the last free place.
   */
  admit(connection: ConnectionInfo, limits: ConnectionLimits): Promise<AdmitResult>;
  release(connectionId: string): Promise<void>;
  /** Counts one client event. Called on the hot path, so it never waits. */
  countMessage(connectionId: string): void;
  sessionConnections(sessionId: string): Promise<ConnectionInfo[]>;
  statistics(): Promise<Statistics>;
}

export interface ProjectMembership {
  /** Returns the project's member count after joining. */
  join(projectId: string, connectionId: string): Promise<number>;
  /** Returns the project's member count after leaving. */
  leave(projectId: string, connectionId: string): Promise<number>;
  members(projectId: string): Promise<number>;
  leaveAll(connectionId: string): Promise<void>;
}

export interface RunInfo {
  messageId: string;
  sessionId: string;
  nodeId: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
}

/** Which run, on which node, each session has in flight. */
export interface RunRegistry {
  /** Records the run as the session's current one unless another is in flight. */
  claim(run: RunInfo): Promise<boolean>;
  release(sessionId: string, messageId: string): Promise<void>;
  current(sessionId: string): Promise<RunInfo | null>;
}

export interface GatewayState {
  connections: ConnectionRegistry;
  projects: ProjectMembership;
  runs: RunRegistry;
  streams: StreamStore;
  close(): Promise<void>;
}

/** One event of an agent stream as it went out on the wire. Chunks carry their `seq`. */
export interface StreamEvent {
  type: string;
  payload: { type: string; timestamp: number; seq?: number; [key: string]: unknown };
}

/** A follower past its replay: `done` settles when the stream ends or the follower aborts. */
export interface StreamFollower {
  done: Promise<"ended" | "aborted">;
  /**
   * Set when chunks the follower asked for (`afterSeq + 1` onwards) were
   * dropped under the history cap: the first seq still stored.
   */
  trimmedBefore?: number;
}

/**
 * Names one stream. Message ids may be chosen by clients, so they are unique
 * only within a session: a stream belongs to its session, and no other
 * session can read or overwrite it.
 */
export interface StreamRef {
  sessionId: string;
  messageId: string;
}

/**
 * The history of every agent stream, kept for AGENT_STREAM_RETENTION after its
 * end, so a client can resume from any node without gap or duplicate.
 */
export interface StreamStore {
  /** Starts a stream's history (a reused message id starts afresh). */
  open(stream: StreamRef): void;
  /** Appends in call order; never waits, so the token path never blocks on storage. */
  append(stream: StreamRef, event: StreamEvent): void;
  /** Marks the end (after its terminal event was appended); history expires after `retentionMs`. */
  close(stream: StreamRef, retentionMs: number): void;
  /**
   * Delivers the stored chunks with `seq > afterSeq` and the terminal event if
   * stored, then resolves; every later event follows live until the stream
   * ends or `signal` aborts. Resolves null for a stream it has no history of.
   */
  follow(
    stream: StreamRef,
    afterSeq: number,
    onEvent: (event: StreamEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamFollower | null>;
}
