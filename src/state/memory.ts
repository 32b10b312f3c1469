import type {
  AdmitResult,
  ConnectionInfo,
  ConnectionLimits,
  ConnectionRegistry,
  ConnectionStats,
  GatewayState,
  ProjectMembership,
  RunInfo,
  RunRegistry,
  Statistics,
} from "./types.js";
import { MemoryStreamStore } from "./memory-streams.js";

class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly connections = new Map<string, ConnectionStats>();
  private readonly sessions = new Map<string, Set<string>>();
  private totalConnections = 0;
  private totalMessages = 0;

  admit(connection: ConnectionInfo, limits: ConnectionLimits): Promise<AdmitResult> {
    const members = this.sessions.get(connection.sessionId);
    const owner = members ? this.connections.get(members.values().next().value ?? "") : undefined;
    if (owner && owner.userId !== connection.userId) {
      return Promise.resolve({ admitted: false, reason: "forbidden" });
    }
    if ((members?.size ?? 0) >= limits.maxConnectionsPerSession) {
      return Promise.resolve({ admitted: false, reason: "session_full" });
    }
    if (this.connections.size >= limits.maxConnections) {
      return Promise.resolve({ admitted: false, reason: "server_full" });
    }
    this.connections.set(connection.id, { ...connection, messageCount: 0 });
    if (members) members.add(connection.id);
    else this.sessions.set(connection.sessionId, new Set([connection.id]));
    this.totalConnections++;
    return Promise.resolve({ admitted: true });
  }

  release(connectionId: string): Promise<void> {
    const connection = this.connections.get(connectionId);
    if (connection) {
      this.connections.delete(connectionId);
      const members = this.sessions.get(connection.sessionId);
      members?.delete(connectionId);
      if (members?.size === 0) this.sessions.delete(connection.sessionId);
    }
    return Promise.resolve();
  }

  countMessage(connectionId: string): void {
    const connection = this.connections.get(connectionId);
    if (connection) connection.messageCount++;
    this.totalMessages++;
  }

  sessionConnections(sessionId: string): Promise<ConnectionInfo[]> {
    const ids = [...(this.sessions.get(sessionId) ?? [])];
    return Promise.resolve(ids.flatMap((id) => this.connections.get(id) ?? []));
  }

  statistics(): Promise<Statistics> {
    return Promise.resolve({
      activeConnections: this.connections.size,
      totalConnections: this.totalConnections,
      totalMessages: this.totalMessages,
      connections: [...this.connections.values()].map((c) => ({ ...c })),
    });
  }
}

class MemoryProjectMembership implements ProjectMembership {
  private readonly projects = new Map<string, Set<string>>();

  join(projectId: string, connectionId: string): Promise<number> {
    let members = this.projects.get(projectId);
    if (!members) this.projects.set(projectId, (members = new Set()));
    members.add(connectionId);
    return Promise.resolve(members.size);
  }

  leave(projectId: string, connectionId: string): Promise<number> {
    const members = this.projects.get(projectId);
    members?.delete(connectionId);
    if (members?.size === 0) this.projects.delete(projectId);
    return Promise.resolve(members?.size ?? 0);
  }

  members(projectId: string): Promise<number> {
    return Promise.resolve(this.projects.get(projectId)?.size ?? 0);
  }

  async leaveAll(connectionId: string): Promise<void> {
    for (const projectId of [...this.projects.keys()]) await this.leave(projectId, connectionId);
  }
}

class MemoryRunRegistry implements RunRegistry {
  private readonly runs = new Map<string, RunInfo>();

  claim(run: RunInfo): Promise<boolean> {
    if (this.runs.has(run.sessionId)) return Promise.resolve(false);
    this.runs.set(run.sessionId, run);
    return Promise.resolve(true);
  }

  release(sessionId: string, messageId: string): Promise<void> {
    if (this.runs.get(sessionId)?.messageId === messageId) this.runs.delete(sessionId);
    return Promise.resolve();
  }

  current(sessionId: string): Promise<RunInfo | null> {
    return Promise.resolve(this.runs.get(sessionId) ?? null);
  }
}

export function createMemoryState(): GatewayState {
  const streams = new MemoryStreamStore();
  return {
    connections: new MemoryConnectionRegistry(),
    projects: new MemoryProjectMembership(),
    runs: new MemoryRunRegistry(),
    streams,
    close: () => {
      streams.clear();
      return Promise.resolve();
    },
  };
}
