import type { AuthUser } from "./authenticate.js";

/** Who a budget (rate, runs) is charged to; `key` names it in every store. */
export interface Principal {
  scope: "user" | "ip";
  key: string;
}

/**
 * The user behind a token, or the client's address for anonymous clients:
 * the TCP peer, so behind a reverse proxy every anonymous client shares the
 * proxy's budget (docs/security.md). The one place this is decided.
 */
export function principalOf(user: AuthUser | null, address: string): Principal {
  return user ? { scope: "user", key: `user:${user.id}` } : { scope: "ip", key: `ip:${address}` };
}

/**
 * The checkpointer thread of a session's conversation. A user's thread names
 * the user, so even a session id that changes hands (its owner record expired)
 * never reaches the earlier owner's conversation. Anonymous threads keep the
 * bare session id (a session id cannot contain "/", so the two never meet).
 */
export function conversationThreadOf(sessionId: string, user: AuthUser | null): string {
  return user ? `user:${user.id}/${sessionId}` : sessionId;
}
