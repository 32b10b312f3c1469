import type { Static, TSchema } from "@sinclair/typebox";
import type { ServerEventType } from "../core/protocol.js";
import type { HandlerContext } from "./handler-context.js";

/**
 * What a file in `handlers/` default-exports. The payload type comes from the
 * schema, so a handler never writes an interface beside it. `T` keeps the
 * event name as a literal, for the typed client (src/client/index.ts).
 */
export interface HandlerDefinition<
  S extends TSchema = TSchema,
  R = unknown,
  T extends string = string,
> {
  /** The Socket.IO event name clients send. */
  type: T;
  description: string;
  schema: S;
  /** Overrides WS_HANDLER_TIMEOUT for this handler. */
  timeoutMs?: number;
  /**
   * The server events this handler sends, each with a one-line summary:
   * /asyncapi.json lists them. An event of its own is declared by merging
   * into ServerEventMap (src/core/protocol.ts).
   */
  events?: Partial<Record<ServerEventType, string>>;
  /** What it returns becomes the ack's `data`; what it throws becomes an error. */
  handle(payload: Static<S>, ctx: HandlerContext): R | Promise<R>;
}

export function defineHandler<S extends TSchema, R, const T extends string>(
  definition: HandlerDefinition<S, R, T>,
): HandlerDefinition<S, R, T> {
  return definition;
}
