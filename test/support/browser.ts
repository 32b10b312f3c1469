import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const ARTIFACTS_DIR = path.resolve("test-artifacts");

/** The Chromium binary the tests drive: $CHROMIUM_PATH, else Debian's. */
export function chromiumPath(): string {
  return process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
}

export interface RunningBrowser {
  context: BrowserContext;
  /** Console errors, page errors and failed requests seen by any page, as text. */
  problems: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile. A missing browser is a failure,
 * not a skip: these tests are the only check of the console in a real browser.
 */
export async function launchBrowser(): Promise<RunningBrowser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}. Install it with ` +
        "`apt-get install -y chromium`, or set CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  }
  const userDataDir = await mkdtemp(path.join(tmpdir(), "gateway-console-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1360, height: 900 },
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(
      `Chromium at ${executablePath} did not start (${(error as Error).message}). ` +
        "Reinstall it with `apt-get install -y chromium`, or set CHROMIUM_PATH.",
      { cause: error },
    );
  }
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      // Socket.IO's transports are aborted on purpose when a test drops the connection,
      // and a reload cancels whatever the page was still fetching (ERR_ABORTED): neither
      // is a failure of the server or the page.
      if (request.url().includes("/socket.io/?")) return;
      if (request.failure()?.errorText === "net::ERR_ABORTED") return;
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`);
    });
  };
  context.on("page", watch);
  context.pages().forEach(watch);
  return {
    context,
    problems,
    async newPage() {
      const existing = context.pages().find((p) => p.url() === "about:blank");
      return existing ?? context.newPage();
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
