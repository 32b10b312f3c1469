import path from "node:path";
import express, { type Express } from "express";
import cors from "cors";
import helmet from "helmet";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { GatewayError } from "../core/errors.js";
import { errorMiddleware, sendError } from "./http-errors.js";
import { answerScrape, processMetrics } from "../metrics/metrics-http.js";
import { createRoutes, type RouteDeps } from "./routes.js";

export function createHttpApp(
  config: Config,
  log: Logger,
  routeDeps: RouteDeps,
  publicDir: string,
): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(
    helmet({
      contentSecurityPolicy: {
        // The console may talk to another gateway than the one that served it.
        directives: { connectSrc: ["'self'", "ws:", "wss:", "http:", "https:"] },
      },
    }),
  );
  app.use(cors({ origin: config.corsOrigins === "*" ? "*" : config.corsOrigins }));
  if (config.operating.metricsPort === undefined)
    app.get("/metrics", (req, res) =>
      answerScrape(processMetrics, config.operating.metricsToken, req, res),
    );
  app.use(createRoutes(routeDeps));
  // The seed documents name the console test_websocket.html; both names serve the same page.
  app.get(["/test_websocket.html", "/static/test_websocket.html"], (_req, res) => {
    res.sendFile(path.join(publicDir, "index.html"));
  });
  app.use(express.static(publicDir));
  app.use("/static", express.static(publicDir));
  app.use((req, res) =>
    sendError(res, new GatewayError("not_found", `No route for ${req.method} ${req.path}`)),
  );
  app.use(errorMiddleware(log));
  return app;
}
