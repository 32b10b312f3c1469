import type { ErrorRequestHandler, Response } from "express";
import { GatewayError, toGatewayError, toWireError, type ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

const STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_payload: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  message_too_large: 413,
  rate_limited: 429,
  shutting_down: 503,
};

export function sendError(res: Response, error: GatewayError): void {
  res.status(STATUS[error.code] ?? 500).json({ error: toWireError(error) });
}

/** Express's last middleware: every failure leaves as `{error: {code, message}}`, never a stack. */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const bodyError = error as { type?: string; status?: number };
    if (bodyError.type === "entity.too.large") {
      return sendError(res, new GatewayError("message_too_large", "The request body is too large"));
    }
    if (bodyError.type === "entity.parse.failed") {
      return sendError(
        res,
        new GatewayError("invalid_payload", "The request body is not valid JSON"),
      );
    }
    // Express refuses a path it cannot decode ("%ZZ") with a plain 400: the client's fault, not ours.
    if (error instanceof URIError || bodyError.status === 400) {
      return sendError(res, new GatewayError("invalid_payload", "The request is malformed"));
    }
    const gatewayError = toGatewayError(error);
    if (gatewayError.code === "internal_error") log.error("request failed", { error });
    sendError(res, gatewayError);
  };
}
