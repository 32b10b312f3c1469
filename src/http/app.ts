import { createRequire } from "node:module";
import path from "node:path";
import express, { type Express } from "express";
import cors from "cors";
import helmet from "helmet";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { GatewayError } from "../core/errors.js";
import { errorMiddleware, sendError } from "./http-errors.js";
import { answerScrape, processMetrics } from "../metrics/metrics-http.js";
import { adminUiRoutes } from "../transports/socketio/admin-ui.js";
import { asyncApiDocument } from "./asyncapi.js";
import { docsRoutes } from "./docs-page.js";
import { openApiDocument } from "./openapi.js";
import { createRoutes, type RouteDeps } from "./routes.js";

const { version } = createRequire(import.meta.url)("agent-gateway/package.json") as {
  version: string;
};

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
  const openApi = openApiDocument(version);
  const asyncApi = asyncApiDocument(routeDeps.handlers, version);
  app.get("/openapi.json", (_req, res) => void res.json(openApi));
  app.get("/asyncapi.json", (_req, res) => void res.json(asyncApi));
  app.use(docsRoutes());
  if (config.operating.adminUi) app.use(adminUiRoutes());
  // The agent-engine protocol's documents name the console test_websocket.html; both names serve the same page.
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
