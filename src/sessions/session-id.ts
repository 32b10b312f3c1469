import { randomUUID } from "node:crypto";
import { GatewayError } from "../core/errors.js";

const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 22 base64url characters carry 132 bits; fewer cannot hold 128 bits of randomness. */
const LONG_TOKEN = /^[A-Za-z0-9_-]{22,128}$/;

/**
 * `any`: the earlier systems' clients pick ids such as `session-1a2b3c4d`, so
 * by default any well-formed id is taken. `strong`: only ids shaped like the
 * server's own (a UUID) or long enough to hold 128 random bits, so that an
 * anonymous session id cannot be guessed. A format check cannot prove an id
 * random; it refuses the short, made-up ones a stranger could guess.
 */
export type SessionIdPolicy = "any" | "strong";

/** The session a handshake asks for, or a new server-issued one. */
export function readSessionId(value: unknown, policy: SessionIdPolicy): string {
  if (value === undefined || value === null || value === "") return randomUUID();
  if (typeof value !== "string" || !SESSION_ID.test(value)) {
    throw new GatewayError(
      "invalid_session_id",
      "session_id must be 1-128 characters of A-Z a-z 0-9 _ . : -",
    );
  }
  if (policy === "strong" && !UUID.test(value) && !LONG_TOKEN.test(value)) {
    throw new GatewayError(
      "invalid_session_id",
      "This server takes only unguessable session ids: omit session_id to get one, or send a UUID or at least 22 random base64url characters",
    );
  }
  return value;
}
