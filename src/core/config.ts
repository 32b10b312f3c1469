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
    else if (e.keyword !== "anyOf" && !byName.has(name))
      byName.set(name, e.message ?? "is invalid");
  }
  for (const [name, allowed] of choices) byName.set(name, `must be one of: ${allowed.join(", ")}`);
  return [...byName].map(([name, problem]) =>
    declared.get(name)?.secret
      ? `${name} (secret, value not shown): ${problem}`
      : `${name}=${JSON.stringify(written[name] ?? "")}: ${problem}`,
  );
}

/** Rules that tie two settings together. */
function checkTogether(values: Record<string, unknown>): void {
  const number = (name: string) => values[name] as number;
  if (number("WS_HEARTBEAT_TIMEOUT") <= number("WS_HEARTBEAT_INTERVAL")) {
    throw invalid(
      `WS_HEARTBEAT_TIMEOUT=${number("WS_HEARTBEAT_TIMEOUT")} must be greater than WS_HEARTBEAT_INTERVAL=${number("WS_HEARTBEAT_INTERVAL")}`,
    );
  }
  if (number("WS_MAX_FRAME_BYTES") < number("WS_MAX_MESSAGE_BYTES")) {
    throw invalid(
      `WS_MAX_FRAME_BYTES=${number("WS_MAX_FRAME_BYTES")} must be at least WS_MAX_MESSAGE_BYTES=${number("WS_MAX_MESSAGE_BYTES")}`,
    );
  }
  if ((values["ADMIN_UI_USERNAME"] === undefined) !== (values["ADMIN_UI_PASSWORD"] === undefined)) {
    throw invalid("ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD are set together or not at all");
  }
}
