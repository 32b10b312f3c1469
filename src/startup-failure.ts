import { ClusterStartError } from "./cluster/redis-cluster.js";
import { ConfigError, type Config } from "./core/config.js";

/**
 * The one line an operator reads when the process cannot start: it names the
 * setting to change and never prints a secret. Undefined for a failure that is
 * not about a setting (a bug), which is logged in full instead.
 */
export function startupFailureLine(error: unknown, config: Config): string | undefined {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof ClusterStartError) return `REDIS_URL: ${error.message}`;
  const { code, port, syscall } = error as { code?: unknown; port?: unknown; syscall?: unknown };
  if (syscall !== "listen" || (code !== "EADDRINUSE" && code !== "EACCES")) return undefined;
  const setting =
    port === config.operating.metricsPort && port !== config.port ? "METRICS_PORT" : "PORT";
  const where = `${String(port)} on ${config.host}`;
  return code === "EADDRINUSE"
    ? `${setting}: port ${where} is already in use; stop what listens there or set ${setting} to a free port`
    : `${setting}: port ${where} needs privileges this process lacks; set ${setting} to 1024 or above`;
}
