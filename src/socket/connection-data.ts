import type { AuthUser } from "../auth/authenticate.js";

/** What admission stores in `socket.data` for the rest of the connection's life. */
export interface ConnectionData {
  sessionId: string;
  user: AuthUser | null;
  /** Who the connection's budgets are charged to (src/auth/principal.ts). */
  principal: string;
  /** Milliseconds since the epoch. */
  connectedAt: number;
  /** The message id of the session's run in flight anywhere in the cluster at admission, if any. */
  currentRun?: string;
  /** Gives the connection's place under the caps back, once however often it is called. */
  releaseSlot: () => Promise<void>;
}
