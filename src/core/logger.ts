import type { Writable } from "node:stream";
import winston from "winston";

export type Logger = winston.Logger;

/** Where a logger is read when a line is written (a connection makes its own on first use). */
export interface LogSource {
  readonly log: Logger;
}

/**
 * An Error in log metadata has no enumerable properties, so JSON.stringify
 * writes `{}`; both formats log these fields instead.
 */
const serializeErrors = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (value instanceof Error) info[key] = describeError(value);
  }
  return info;
});

// A cause chain can loop (an error that causes itself); a few levels tell the story.
const MAX_CAUSE_DEPTH = 5;

function describeError(error: Error, depth = 0): Record<string, unknown> {
  const { code, details } = error as Error & { code?: unknown; details?: unknown };
  const cause =
    error.cause instanceof Error && depth < MAX_CAUSE_DEPTH
      ? describeError(error.cause, depth + 1)
      : error.cause instanceof Error
        ? { name: error.cause.name, message: error.cause.message }
        : error.cause;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(details === undefined ? {} : { details }),
    stack: error.stack,
    ...(cause === undefined ? {} : { cause }),
  };
}

export interface LoggerOptions {
  level: string;
  format: "json" | "pretty";
  /** Where lines go instead of stdout/stderr (tests read it). */
  stream?: Writable;
}

/** JSON lines for machines in production, one readable line per entry in development. */
export function createLogger(options: LoggerOptions): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(
          winston.format.timestamp(),
          winston.format.errors({ stack: true }),
          serializeErrors(),
          winston.format.json(),
        )
      : winston.format.combine(
          winston.format.timestamp({ format: "HH:mm:ss.SSS" }),
          winston.format.errors({ stack: true }),
          serializeErrors(),
          winston.format.printf(({ timestamp, level, message, stack, ...meta }) => {
            const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : "";
            const trace = typeof stack === "string" ? `\n${stack}` : "";
            return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extra}${trace}`;
          }),
        );
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ["error", "warn"] });
  return winston.createLogger({ level: options.level, format, transports: [transport] });
}
