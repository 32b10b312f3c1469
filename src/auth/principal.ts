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
 * A session's identity in state, rooms, runs, stream histories and the
 * checkpointer. A user's sessions are the user's own: the same session id
 * under two users names two sessions, so no user can claim, block or read
 * another's (a handshake dropped mid-admission included). Anonymous sessions
 * keep the bare id, which is their only key. A session id cannot contain "/",
 * so the two kinds never meet and the id is always the part after the last "/".
 * The key is also the conversation's checkpointer thread (`user:<sub>/<id>`,
 * the thread name user conversations already had).
 */
export function sessionKeyOf(sessionId: string, user: AuthUser | null): string {
  return user ? `user:${user.id}/${sessionId}` : sessionId;
}

/** The session id its client named, for what leaves on the wire. */
export function sessionIdOfKey(sessionKey: string): string {
  return sessionKey.slice(sessionKey.lastIndexOf("/") + 1);
}
