/** Everything a file in handlers/ needs, from one import. */
export { Type, type Static } from "@sinclair/typebox";
export { defineHandler, type HandlerDefinition } from "./registry/define-handler.js";
export type { HandlerContext } from "./registry/handler-context.js";
export { GatewayError, type ErrorCode } from "./core/errors.js";
