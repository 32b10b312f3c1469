/** Thrown by a tool when its input makes no sense; the gateway answers `invalid_params`. */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}
