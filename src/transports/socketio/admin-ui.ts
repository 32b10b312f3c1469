import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { instrument } from "@socket.io/admin-ui";
import bcrypt from "bcryptjs";
import express, { Router } from "express";
import type { Server, Socket } from "socket.io";
import type { Config } from "../../core/config.js";

const uiDir = path.join(
  path.dirname(createRequire(import.meta.url).resolve("@socket.io/admin-ui/package.json")),
  "ui",
  "dist",
);

/** Handshake headers that carry a client's credentials; the Admin UI shows every other header. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * ADMIN_UI_USERNAME/PASSWORD: the /admin namespace reports sockets, rooms and
 * the events sent to clients to the Socket.IO Admin UI. Read-only: the UI may
 * watch, not disconnect clients or join rooms for them.
 */
export function instrumentAdminUi(io: Server, config: Config, nodeId: string): boolean {
  const login = config.operating.adminUi;
  if (!login) return false;
  instrument(io, {
    auth: {
      type: "basic",
      username: login.username,
      password: bcrypt.hashSync(login.password, 10),
    },
    readonly: true,
    serverId: nodeId,
    // Development mode is the only one in which the UI lists sockets, rooms
    // and events; production mode shows counts alone. It wraps socket.data in
    // Proxies that throw on a null assigned into them: safe here because
    // socket.data holds one object, `admitted`, set once and never written.
    mode: "development",
  });
  // Prepended after instrument(), so it runs before the UI's listener copies the handshake.
  io.of("/").prependListener("connection", (socket: Socket) => {
    const headers = { ...socket.handshake.headers };
    for (const name of CREDENTIAL_HEADERS) if (name in headers) headers[name] = "[redacted]";
    socket.handshake.headers = headers;
  });
  return true;
}

/**
 * The UI's own files at /admin-ui/. Its index.html asks two CDNs for fonts
 * and icons; they are dropped, so the page loads from this server alone.
 */
export function adminUiRoutes(): Router {
  const index = readFileSync(path.join(uiDir, "index.html"), "utf8").replace(
    /<link rel="stylesheet" href="https:[^"]*">/g,
    "",
  );
  const router = Router();
  router.get(["/admin-ui", "/admin-ui/"], (req, res) => {
    if (!req.path.endsWith("/")) return res.redirect("/admin-ui/");
    res.type("html").send(index);
  });
  router.use("/admin-ui", express.static(uiDir, { index: false }));
  return router;
}
