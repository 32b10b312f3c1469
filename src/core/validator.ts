import { Ajv, type ErrorObject, type Options } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats ships CommonJS; its default export arrives nested under ESM interop.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * The gateway keeps one Ajv instance for all handler and tool schemas, so each is compiled once.
 * It stops at the first finding: with allErrors a payload of 200,000 wrong items
 * took a second to check and produced 32 MB of findings to send back.
 */
export function createValidator(options: Options = {}): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    useDefaults: true,
    strict: true,
    strictTypes: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

export interface ValidationIssue {
  path: string;
  message: string;
  params: Record<string, unknown>;
}

/**
 * Enough findings to fix a payload; a payload with thousands of unknown
 * properties must not get an error thousands of lines long.
 */
export const MAX_VALIDATION_FINDINGS = 10;

export function describeErrors(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).slice(0, MAX_VALIDATION_FINDINGS).map((e) => ({
    path: e.instancePath || "/",
    message:
      e.keyword === "additionalProperties"
        ? `has unknown property "${String(e.params["additionalProperty"])}"`
        : (e.message ?? "is invalid"),
    params: e.params as Record<string, unknown>,
  }));
}
