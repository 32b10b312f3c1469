/** Everything a file in handlers/ needs, from one import. */
export { Type, type Static } from "@sinclair/typebox";
export { defineHandler, type HandlerDefinition } from "./registry/define-handler.js";
export type { HandlerContext } from "./registry/handler-context.js";
export { MessageId, Participant, ProjectId } from "./registry/schemas.js";
export { WithDefault } from "./registry/with-default.js";
export { DEFAULT_PERSONAS } from "./agents/index.js";
export { GatewayError, type ErrorCode } from "./core/errors.js";
