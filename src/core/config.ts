// Reads the environment into Config; the settings themselves are declared in ./settings.ts.
import { Type, type TSchema } from "@sinclair/typebox";
import type { ErrorObject } from "ajv";
import { leaves, mapLeaves, type Setting } from "./setting.js";
import { SETTINGS } from "./settings.js";
import { createValidator } from "./validator.js";

export { PLAIN_PATH_PATTERNS, type PlainPathPattern } from "./settings.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const invalid = (problems: string) => new ConfigError(`Invalid configuration: ${problems}`);

const declared = new Map<string, Setting>();
for (const setting of leaves(SETTINGS)) {
  if (declared.has(setting.name)) throw new Error(`${setting.name} is declared twice`);
  declared.set(setting.name, setting);
}

const envSchema = Type.Object(
  Object.fromEntries(
    [...declared].map(([name, { schema }]): [string, TSchema] => [
      name,
      schema.default === undefined ? Type.Optional(schema) : schema,
    ]),
  ),
);
// Environment values are strings: this validator coerces them, unlike the handlers' one.
const validateEnv = createValidator({ coerceTypes: true, allErrors: true }).compile(envSchema);

export type Config = ReturnType<typeof loadConfig>;

/** Reads and checks the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const values = checkedValues(source);
  const problems: string[] = [];
  const read = mapLeaves(SETTINGS, (setting) => {
    try {
      return setting.toConfig(values[setting.name]);
    } catch (error) {
      problems.push(`${setting.name}: ${(error as Error).message}`);
      return undefined;
    }
  });
  if (problems.length > 0) throw invalid(problems.join("; "));
  checkTogether(values);

  const { adminUiLogin, ...settings } = read;
  const { username, password } = adminUiLogin;
  return {
    ...settings,
    logFormat: read.logFormat ?? (read.production ? "json" : "pretty"),
    limits: {
      ...read.limits,
      maxFrameBytes: read.limits.maxFrameBytes ?? frameCapOf(read.limits.maxMessageBytes),
      // A stream or a conversation must never outlive its owner record: once
      // the owner is forgotten, anyone may claim the session id and would
      // inherit whatever history is still stored under it.
      sessionOwnerTtlMs: Math.max(
        read.agent.threadTtlMs,
        read.agent.runTimeoutMs + read.agent.streamRetentionMs,
      ),
    },
    operating: {
      ...read.operating,
      metricsToken: read.operating.metricsToken ?? read.apiKey,
      /** Set: the Socket.IO Admin UI is instrumented and served at /admin-ui/. */
      adminUi:
        username === undefined || password === undefined ? undefined : { username, password },
    },
  };
}

/**
 * Room in a frame for what wraps a message: the Engine.IO packet type, the
 * Socket.IO header (type, attachment count, ack id) and a polling body's
 * separators.
 */
export const FRAME_ENVELOPE_BYTES = 1024;

/**
 * WS_MAX_FRAME_BYTES by default: a frame that cannot become an accepted
 * message (over WS_MAX_MESSAGE_BYTES) is refused as soon as its header
 * announces its length, before it is buffered. An 8 MiB cap let 7.9 MB
 * frames be buffered and parsed only to be refused (docs/performance.md).
 */
export function frameCapOf(maxMessageBytes: number): number {
  return maxMessageBytes + FRAME_ENVELOPE_BYTES;
}

/** The declared variables, validated, coerced and defaulted. */
function checkedValues(source: NodeJS.ProcessEnv): Record<string, unknown> {
  // An empty value (`PORT=` in a .env file) means "use the default", as most tools read it.
  const env: Record<string, unknown> = {};
  for (const name of declared.keys()) {
    const value = source[name];
    if (value !== undefined && value !== "") env[name] = value;
  }
  // Ajv coerces in place, so keep the values as written for the error message.
  const written = { ...env };
  if (!validateEnv(env)) {
    throw invalid(describeEnvErrors(written, validateEnv.errors ?? []).join("; "));
  }
  return env;
}

/** One line per bad variable; a choice among literals reads "must be one of: a, b". */
function describeEnvErrors(written: Record<string, unknown>, errors: ErrorObject[]): string[] {
  const byName = new Map<string, string>();
  const choices = new Map<string, unknown[]>();
  for (const e of errors) {
    const name = e.instancePath.slice(1);
    if (e.keyword === "const")
      choices.set(name, [...(choices.get(name) ?? []), e.params["allowedValue"]]);
    else if (e.keyword !== "anyOf" && !byName.has(name)) byName.set(name, problemOf(e));
  }
  for (const [name, allowed] of choices) byName.set(name, `must be one of: ${allowed.join(", ")}`);
  return [...byName].map(([name, problem]) => {
    const value = String((written[name] as string | number | boolean | undefined) ?? "");
    // A URL's password is masked; any other secret is named by its length alone.
    if (name.endsWith("_URL")) return `${name}=${JSON.stringify(redactUrl(value))}: ${problem}`;
    return declared.get(name)?.secret
      ? `${name} (${value.length} characters, value not shown): ${problem}`
      : `${name}=${JSON.stringify(value)}: ${problem}`;
  });
}

function problemOf(e: ErrorObject): string {
  if (e.keyword === "minLength") return `must be at least ${String(e.params["limit"])} characters`;
  return e.message ?? "is invalid";
}

/** A URL as it may be printed: its password, if any, masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

/** Rules that tie two settings together. */
function checkTogether(values: Record<string, unknown>): void {
  const number = (name: string) => values[name] as number;
  if (number("WS_HEARTBEAT_TIMEOUT") <= number("WS_HEARTBEAT_INTERVAL")) {
    throw invalid(
      `WS_HEARTBEAT_TIMEOUT=${number("WS_HEARTBEAT_TIMEOUT")} must be greater than WS_HEARTBEAT_INTERVAL=${number("WS_HEARTBEAT_INTERVAL")}`,
    );
  }
  if (
    values["WS_MAX_FRAME_BYTES"] !== undefined &&
    number("WS_MAX_FRAME_BYTES") < number("WS_MAX_MESSAGE_BYTES")
  ) {
    throw invalid(
      `WS_MAX_FRAME_BYTES=${number("WS_MAX_FRAME_BYTES")} must be at least WS_MAX_MESSAGE_BYTES=${number("WS_MAX_MESSAGE_BYTES")}`,
    );
  }
  if (number("AGENT_THREAD_MAX_MESSAGES") < number("AGENT_HISTORY_MAX_MESSAGES")) {
    throw invalid(
      `AGENT_THREAD_MAX_MESSAGES=${number("AGENT_THREAD_MAX_MESSAGES")} must be at least AGENT_HISTORY_MAX_MESSAGES=${number("AGENT_HISTORY_MAX_MESSAGES")}`,
    );
  }
  const model = values["AGENT_MODEL"] as string;
  if (
    model.startsWith("openai:") &&
    values["OPENAI_API_KEY"] === undefined &&
    values["OPENAI_BASE_URL"] === undefined
  ) {
    throw invalid(
      `AGENT_MODEL=${model} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server)`,
    );
  }
  if ((values["ADMIN_UI_USERNAME"] === undefined) !== (values["ADMIN_UI_PASSWORD"] === undefined)) {
    throw invalid("ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD are set together or not at all");
  }
}
