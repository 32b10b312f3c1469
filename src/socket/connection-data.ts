import type { AuthUser } from "../auth/authenticate.js";

/** What admission stores in `socket.data` for the rest of the connection's life. */
export interface ConnectionData {
  sessionId: string;
  user: AuthUser | null;
  /** Milliseconds since the epoch. */
  connectedAt: number;
}
