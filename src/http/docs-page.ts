import { createRequire } from "node:module";
import path from "node:path";
import express, { Router } from "express";

const swaggerUiDir = path.dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);

/** No inline script: Helmet's CSP (script-src 'self') stays as it is. */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Agent gateway API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <p style="font-family: sans-serif; margin: 1em 2em">
      REST: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1) · Socket.IO protocol:
      <a href="/asyncapi.json" data-testid="asyncapi-link">/asyncapi.json</a> (AsyncAPI 3.0)
    </p>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

/** /docs: Swagger UI from the swagger-ui-dist package, no CDN. */
export function docsRoutes(): Router {
  const router = Router();
  router.get("/docs", (_req, res) => {
    res.type("html").send(PAGE);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("application/javascript").send(INIT);
  });
  router.use("/docs/assets", express.static(swaggerUiDir, { index: false }));
  return router;
}
