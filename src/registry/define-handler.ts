import type { Static, TSchema } from "@sinclair/typebox";
import type { HandlerContext } from "./handler-context.js";

/**
 * What a file in `handlers/` default-exports. The payload type comes from the
 * schema, so a handler never writes an interface beside it.
 */
export interface HandlerDefinition<S extends TSchema = TSchema, R = unknown> {
  /** The Socket.IO event name clients send. */
  type: string;
  description: string;
  schema: S;
  /** Overrides WS_HANDLER_TIMEOUT for this handler. */
  timeoutMs?: number;
  /** What it returns becomes the ack's `data`; what it throws becomes an error. */
  handle(payload: Static<S>, ctx: HandlerContext): R | Promise<R>;
}

export function defineHandler<S extends TSchema, R>(
  definition: HandlerDefinition<S, R>,
): HandlerDefinition<S, R> {
  return definition;
}
