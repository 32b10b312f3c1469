import type { AuthUser } from "./authenticate.js";

/**
 * Who a budget belongs to: the user behind a token, or the client's address
 * for anonymous clients (behind a proxy that is the proxy's, unless the proxy
 * is the only way in; docs/security.md).
 */
export function principalOf(user: AuthUser | null, address: string): string {
  return user ? `user:${user.id}` : `ip:${address}`;
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
