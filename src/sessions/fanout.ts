import {
  serverEvent,
  type ServerEvent,
  type ServerEventMap,
  type ServerEventType,
} from "../core/protocol.js";
import type { StreamRef } from "../state/types.js";
import { streamKey } from "../state/stream-vocabulary.js";

/** Every connection of a session, whatever its transport and node. */
export const sessionGroup = (sessionId: string): string => `session:${sessionId}`;
/** Every connection that joined a project. */
export const projectGroup = (projectId: string): string => `project:${projectId}`;
/** Connections that asked at connection for every run's state updates (`stream_modes: ["updates"]`). */
export const updatesGroup = (sessionId: string): string => `updates:${sessionId}`;
/** The connection that asked for one run's state updates with its message. */
export const runUpdatesGroup = (stream: StreamRef): string => `updates:${streamKey(stream)}`;
/** Connections in this group get a stream's events from their own resume, not from the live broadcast. */
export const catchUpGroup = (stream: StreamRef): string => `catch-up:${streamKey(stream)}`;

/** Membership of fan-out groups for connections the bus does not carry itself (plain WebSocket). */
export interface GroupMembership {
  join(id: string, group: string): void;
  leave(id: string, group: string): void;
  has(id: string, group: string): boolean;
  leaveAll(id: string): void;
}

export interface BroadcastTarget {
  groups: string[];
  except?: string[];
  local?: boolean;
}

/** A built server event, as it travels: its `type` and `timestamp` are inside. */
export type WireEvent = ServerEvent<ServerEventType>;

/**
 * What fan-out needs from the transport layer: one bus that reaches every
 * member of a group on every node, and asks the other nodes a question.
 * Implemented once, over Socket.IO's adapter (src/transports/socketio/bus.ts),
 * which also serves the plain WebSocket members (docs/cluster.md).
 */
export interface Bus {
  /**
   * To every member of any of `groups` (no groups: every connection), minus
   * members of any of `except`, on every node or, with `local`, on this one.
   */
  broadcast(target: BroadcastTarget, event: WireEvent): void;
  /** Asks every other node; resolves with the replies that came within `timeoutMs`. */
  askPeers(name: string, request: unknown, timeoutMs: number): Promise<unknown[]>;
  /**
   * A connection of `group` is about to join on this node: resolves once every
   * node that could broadcast to the group knows to include this one.
   */
  memberArriving(group: string): Promise<void>;
  /** Answers what other nodes ask under `name`. */
  answerPeers(name: string, answer: (request: unknown) => unknown): void;
  /**
   * From now on, broadcasts reach this connection as the native event passed
   * to `deliver` rather than as the frame shared by native members; returns
   * the undo.
   */
  translateFor(connectionId: string, deliver: (event: WireEvent) => void): () => void;
}

/**
 * The one owner of fan-out: session and project groups, the catch-up group
 * during `resume`, and delivery across nodes. `runs/` and `http/` reach
 * connections only through this.
 */
export class Fanout {
  constructor(private readonly bus: Bus) {}

  /** To every connection of the session, minus those catching up on the stream named. */
  toSession(sessionId: string, event: WireEvent, exceptCatchingUp?: StreamRef): void {
    const except = exceptCatchingUp ? [catchUpGroup(exceptCatchingUp)] : [];
    this.bus.broadcast({ groups: [sessionGroup(sessionId)], except }, event);
  }

  /** A run's state update: only to the connections that asked for them. */
  toUpdateFollowers(stream: StreamRef, event: WireEvent): void {
    this.bus.broadcast(
      {
        groups: [updatesGroup(stream.sessionId), runUpdatesGroup(stream)],
        except: [catchUpGroup(stream)],
      },
      event,
    );
  }

  /**
   * Before admission looks up the session's run: the other nodes then know
   * this node has a member, so no broadcast of a later run stays on theirs.
   */
  sessionMemberArriving(sessionId: string): Promise<void> {
    return this.bus.memberArriving(sessionGroup(sessionId));
  }

  toProject(projectId: string, event: WireEvent): void {
    this.bus.broadcast({ groups: [projectGroup(projectId)] }, event);
  }

  /** To every connection on this node (the other nodes' clients are not concerned). */
  toThisNode<K extends ServerEventType>(type: K, data: ServerEventMap[K]): void {
    this.bus.broadcast({ groups: [], local: true }, serverEvent(type, data) as WireEvent);
  }

  askPeers(name: string, request: unknown, timeoutMs: number): Promise<unknown[]> {
    return this.bus.askPeers(name, request, timeoutMs);
  }

  answerPeers(name: string, answer: (request: unknown) => unknown): void {
    this.bus.answerPeers(name, answer);
  }

  /** A dialect connection's broadcasts, each translated for it alone (src/sessions/dialect-edge.ts). */
  translateFor(connectionId: string, deliver: (event: WireEvent) => void): () => void {
    return this.bus.translateFor(connectionId, deliver);
  }
}
