/**
 * The one table of error codes a client can see. Codes are stable: clients
 * branch on them, so a code is never renamed, only added.
 */
export const ErrorCodes = {
  unknown_type: "No handler is registered for this event type",
  invalid_payload: "The payload does not match the handler's schema",
  message_too_large: "The message is larger than the server accepts",
  rate_limited: "Too many events; slow down",
  unknown_tool: "No tool with this name",
  invalid_params: "The tool's parameters are invalid",
  tool_error: "The tool failed",
  not_in_project: "Join the project before sending to it",
  forbidden: "Not allowed",
  unauthorized: "Authentication required or invalid",
  session_full: "The session has reached its connection limit",
  server_full: "The server has reached its connection limit",
  too_many_sessions: "The server remembers as many sessions as it can; try again later",
  invalid_session_id: "The session id is invalid",
  not_found: "Nothing found",
  busy: "The session already has a run in progress",
  agent_error: "The agent failed",
  timeout: "The operation timed out",
  stream_expired: "The stream is unknown or its history has expired",
  run_lost: "The node running this stream stopped before it finished",
  shutting_down: "The server is shutting down",
  unavailable: "A service the gateway depends on is unreachable; try again shortly",
  unknown_dialect: "No compatibility dialect with this id",
  unknown_graph: "No graph with this name",
  not_interrupted: "The run is not waiting for a resume",
  interrupt_expired: "The run waited longer than AGENT_INTERRUPT_TTL; it can no longer be resumed",
  internal_error: "Internal server error",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

const BRAND = Symbol.for("agent-gateway.GatewayError");

export class GatewayError extends Error {
  /**
   * A handler file can reach this module through another module instance (a
   * test runner's CommonJS hook beside the loader's ESM import, or a handler
   * that bundles its own copy), so `instanceof` checks a global brand rather
   * than this class object.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && BRAND in value;
  }

  readonly [BRAND] = true;

  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code],
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "GatewayError";
  }
}

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** Anything thrown becomes a GatewayError; unknown errors keep their cause for the log only. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError("internal_error", ErrorCodes.internal_error, undefined, { cause: error });
}

/** The only way an error reaches the wire: code, message, details; never a stack. */
export function toWireError(error: GatewayError): WireError {
  const wire: WireError = { code: error.code, message: error.message };
  if (error.details !== undefined) wire.details = error.details;
  return wire;
}
