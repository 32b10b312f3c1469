/** Everything a file in handlers/ needs, from one import. */
export { Type, type Static } from "@sinclair/typebox";
export { defineHandler, type HandlerDefinition } from "./registry/define-handler.js";
export type { HandlerContext } from "./registry/handler-context.js";
export { GraphName, MessageId, Participant, ProjectId, StreamModes } from "./registry/schemas.js";
export { userTurn, type RunRequest, type ResumeCommand } from "./runs/run-request.js";
export { WithDefault } from "./registry/with-default.js";
export { DEFAULT_PERSONAS, discussionStepLimit } from "./agents/index.js";
export { GatewayError, type ErrorCode } from "./core/errors.js";
