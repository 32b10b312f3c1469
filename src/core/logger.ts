import winston from "winston";

export type Logger = winston.Logger;

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
