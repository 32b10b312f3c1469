import { expect } from "chai";
import { io } from "socket.io-client";
import { launchBrowser, type RunningBrowser } from "./support/browser.js";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";

const ADMIN_UI_USERNAME = "operator";
const ADMIN_UI_PASSWORD = "admin-ui-password-123";

/** Logs in to the /admin namespace as the Admin UI does; resolves with the error, or null once in. */
function adminLogin(url: string, password: string): Promise<Error | null> {
  const socket = io(`${url}/admin`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: { username: ADMIN_UI_USERNAME, password },
  });
  return new Promise((resolve) => {
    socket.once("connect", () => {
      socket.close();
      resolve(null);
    });
    socket.once("connect_error", (error) => {
      socket.close();
      resolve(error);
    });
  });
}

describe("Socket.IO Admin UI", function () {
  this.timeout(60_000);

  it("is off by default: no /admin namespace, no /admin-ui page", async () => {
    const server = await startGateway({});
    try {
      expect((await fetch(`${server.url}/admin-ui/`)).status).to.equal(404);
      expect(await adminLogin(server.url, ADMIN_UI_PASSWORD)).to.be.instanceOf(Error);
    } finally {
      await server.close();
    }
  });

  describe("with ADMIN_UI_USERNAME and ADMIN_UI_PASSWORD", () => {
    let server: RunningGateway;
    let browser: RunningBrowser;
    before(async () => {
      server = await startGateway({ ADMIN_UI_USERNAME, ADMIN_UI_PASSWORD });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it("refuses a wrong password and admits the right one", async () => {
      const refused = await adminLogin(server.url, "guessed-password-000");
      expect(refused?.message).to.match(/invalid credentials/i);
      expect(await adminLogin(server.url, ADMIN_UI_PASSWORD)).to.equal(null);
    });

    it("serves its UI from the package's files, with no CDN", async () => {
      const page = await browser.newPage();
      const foreign: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(server.url)) foreign.push(request.url());
      });
      await page.goto(`${server.url}/admin-ui/`);
      await page.waitForSelector("#app *");
      expect(foreign).to.deep.equal([]);
      expect(browser.problems).to.deep.equal([]);
      await page.close();
    });

    it("logs in from the browser and lists connected clients, live, with their credentials redacted", async () => {
      const secrets = {
        authorization: "Bearer leaked-token-7f3a",
        cookie: "sid=leaked-cookie-9c1e",
      };
      const early = await connect(
        server.url,
        { session_id: "watched-session" },
        { extraHeaders: secrets },
      );
      const page = await browser.newPage();
      const foreign: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(server.url)) foreign.push(request.url());
      });
      await page.goto(`${server.url}/admin-ui/`);
      await page.getByLabel("Server URL").fill(server.url);
      await page.getByLabel("Username").fill(ADMIN_UI_USERNAME);
      await page.getByLabel("Password").fill(ADMIN_UI_PASSWORD);
      await page.getByRole("button", { name: "Connect" }).click();
      await page.locator("header .v-chip:visible", { hasText: /^\s*connected\s*$/ }).waitFor();

      await page.getByText("Sockets", { exact: true }).click();
      const earlyId = early.socket.id ?? "";
      await page.getByText(earlyId, { exact: true }).waitFor();
      // A client arriving while the UI watches appears without a reload.
      const late = await connect(server.url);
      await page.getByText(late.socket.id ?? "", { exact: true }).waitFor();

      // A run streams to a watched client; the instrumented server keeps answering.
      const ended = nextEvent(early.socket, "stream_end");
      expect((await request(early.socket, "message", { content: "hello" })).ok).to.equal(true);
      await ended;
      expect((await request(late.socket, "ping", {})).ok).to.equal(true);

      await page.getByText(earlyId, { exact: true }).click();
      await page.getByText("session:watched-session", { exact: true }).waitFor();
      const details = await page.locator("main").innerText();
      expect(details).to.include("[redacted]");
      expect(details).not.to.include("leaked-");
      expect(foreign).to.deep.equal([]);
      expect(browser.problems).to.deep.equal([]);
      early.socket.close();
      late.socket.close();
      await page.close();
    });
  });
});
