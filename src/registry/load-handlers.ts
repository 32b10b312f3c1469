import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import type { HandlerDefinition } from "./define-handler.js";
import { toInputSchema } from "./input-schema.js";

/** Checks a payload (applying defaults); `errors` holds the findings of the last failure. */
export interface PayloadValidator {
  (payload: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export interface LoadedHandler {
  definition: HandlerDefinition;
  /** What clients must send: closed objects, defaults optional (see toInputSchema). */
  inputSchema: Record<string, unknown>;
  validate: PayloadValidator;
  file: string;
}

export type HandlerRegistry = ReadonlyMap<string, LoadedHandler>;

/** Event names Socket.IO keeps for itself, plus `error`, which the server sends. */
const RESERVED_TYPES = new Set([
  "connect",
  "connect_error",
  "connected",
  "disconnect",
  "disconnecting",
  "error",
  "newListener",
  "removeListener",
]);
const TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const MODULE_FILE = /\.(?:[cm]?js|[cm]?ts)$/;
const SKIPPED_FILE = /\.d\.[cm]?ts$|\.(?:test|spec)\.[cm]?[jt]s$/;

/** Whether the loader serves a file of this name (also read by scripts/write-client-handlers.ts). */
export const isHandlerFile = (name: string): boolean =>
  MODULE_FILE.test(name) && !SKIPPED_FILE.test(name);
/**
 * The earlier systems' clients put `{type, timestamp, id}` on every frame, and
 * plain-WebSocket clients add a `request_id`: closed schemas must not refuse
 * them, so they are dropped before validation unless a schema declares them.
 */
const ENVELOPE_FIELDS = ["type", "timestamp", "id", "request_id"];

export class HandlerLoadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot load handler ${file}: ${reason}`, options);
    this.name = "HandlerLoadError";
  }
}

/**
 * Imports every handler module in `directory`, in sorted order, and compiles
 * its schema. Anything wrong throws, naming the file: a gateway with a broken
 * handler must not start half-working.
 */
export async function loadHandlers(directory: string, ajv: Ajv): Promise<HandlerRegistry> {
  const names = (await readdir(directory)).filter(isHandlerFile).sort();
  const registry = new Map<string, LoadedHandler>();
  for (const name of names) {
    const file = path.join(directory, name);
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      throw new HandlerLoadError(file, `import failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const definition = checkShape(file, module.default);
    const existing = registry.get(definition.type);
    if (existing)
      throw new HandlerLoadError(
        file,
        `type "${definition.type}" is already defined by ${existing.file}`,
      );
    const inputSchema = toInputSchema(definition.schema);
    let compiled: ValidateFunction;
    try {
      compiled = ajv.compile(inputSchema);
    } catch (error) {
      throw new HandlerLoadError(file, `schema does not compile: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const validate = withoutEnvelope(compiled, inputSchema);
    registry.set(definition.type, { definition, inputSchema, validate, file });
  }
  return registry;
}

function withoutEnvelope(
  compiled: ValidateFunction,
  inputSchema: Record<string, unknown>,
): PayloadValidator {
  const properties = inputSchema["properties"];
  const declared = typeof properties === "object" && properties !== null ? properties : {};
  const dropped = ENVELOPE_FIELDS.filter((field) => !Object.hasOwn(declared, field));
  const validate: PayloadValidator = (payload) => {
    if (typeof payload === "object" && payload !== null && !Array.isArray(payload)) {
      for (const field of dropped) Reflect.deleteProperty(payload, field);
    }
    const valid = compiled(payload);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
}

function checkShape(file: string, candidate: unknown): HandlerDefinition {
  if (typeof candidate !== "object" || candidate === null) {
    throw new HandlerLoadError(
      file,
      "the default export must be a handler definition (use defineHandler)",
    );
  }
  const def = candidate as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof def["type"] !== "string" || !TYPE_PATTERN.test(def["type"])) {
    problems.push(`"type" must match ${String(TYPE_PATTERN)}`);
  } else if (RESERVED_TYPES.has(def["type"])) {
    problems.push(`"type" "${def["type"]}" is a reserved event name`);
  }
  if (typeof def["description"] !== "string" || def["description"].length === 0) {
    problems.push(`"description" must be a non-empty string`);
  }
  if (typeof def["schema"] !== "object" || def["schema"] === null)
    problems.push(`"schema" must be a JSON schema object`);
  if (typeof def["handle"] !== "function") problems.push(`"handle" must be a function`);
  const timeout = def["timeoutMs"];
  if (timeout !== undefined && (typeof timeout !== "number" || !(timeout > 0))) {
    problems.push(`"timeoutMs" must be a positive number`);
  }
  const events = def["events"];
  if (
    events !== undefined &&
    (typeof events !== "object" ||
      events === null ||
      Object.values(events).some((summary) => typeof summary !== "string"))
  ) {
    problems.push(`"events" must map event names to one-line summaries`);
  }
  if (problems.length > 0) throw new HandlerLoadError(file, problems.join("; "));
  return candidate as HandlerDefinition;
}
