import winston from "winston";

export type Logger = winston.Logger;

/** Error objects in log metadata would serialise as `{}`; keep their name, message, stack and cause. */
const serializeErrors = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (value instanceof Error) info[key] = describeError(value);
  }
  return info;
});

function describeError(error: Error): Record<string, unknown> {
  const cause = error.cause instanceof Error ? describeError(error.cause) : error.cause;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(cause === undefined ? {} : { cause }),
  };
}

/** JSON lines for machines in production, one readable line per entry in development. */
export function createLogger(options: { level: string; format: "json" | "pretty" }): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(
          winston.format.timestamp(),
          winston.format.errors({ stack: true }),
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
  return winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: ["error", "warn"] })],
  });
}
