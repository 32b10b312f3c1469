import type { ConnectionInfo, RunInfo } from "../types.js";

/**
 * What this node itself put into Redis, kept in memory so the node can put it
 * back when Redis forgot it (a restart without persistence, or other nodes
 * presuming this one dead after a long stall), and to count messages without
 * waiting on Redis.
 */
export class LocalEntries {
  readonly connections = new Map<
    string,
    { info: ConnectionInfo; messages: number; ownerTtlMs: number }
  >();
  readonly memberships = new Map<string, Set<string>>();
  readonly runs = new Map<string, RunInfo>();
  /** Message counts not yet sent to Redis, by connection. */
  pendingMessages = new Map<string, number>();
  pendingTotal = 0;

  join(connectionId: string, projectId: string): void {
    const projects = this.memberships.get(connectionId);
    if (projects) projects.add(projectId);
    else this.memberships.set(connectionId, new Set([projectId]));
  }

  leave(connectionId: string, projectId: string): void {
    const projects = this.memberships.get(connectionId);
    projects?.delete(projectId);
    if (projects?.size === 0) this.memberships.delete(connectionId);
  }

  countMessage(connectionId: string): void {
    const local = this.connections.get(connectionId);
    if (local) local.messages++;
    this.pendingMessages.set(connectionId, (this.pendingMessages.get(connectionId) ?? 0) + 1);
    this.pendingTotal++;
  }

  /** Hands over the pending counts and starts afresh. */
  takePending(): { total: number; byConnection: Map<string, number> } {
    const taken = { total: this.pendingTotal, byConnection: this.pendingMessages };
    this.pendingMessages = new Map();
    this.pendingTotal = 0;
    return taken;
  }

  /**
   * The RESTORE script's argument. Message counts leave out what is still
   * pending: the next flush adds that.
   */
  snapshot(): string {
    const str = String;
    return JSON.stringify({
      connections: [...this.connections.values()].map(({ info, messages, ownerTtlMs }) => ({
        id: info.id,
        session: info.sessionId,
        user: info.userId ?? undefined,
        transport: info.transport,
        at: str(info.connectedAt),
        messages: str(messages - (this.pendingMessages.get(info.id) ?? 0)),
        ttl: str(ownerTtlMs),
      })),
      memberships: [...this.memberships].flatMap(([id, projects]) =>
        [...projects].map((project) => [id, project]),
      ),
      runs: [...this.runs.values()].map((run) => ({
        session: run.sessionId,
        message: run.messageId,
        at: str(run.startedAt),
      })),
    });
  }
}
