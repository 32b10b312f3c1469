import { expect } from "chai";
import { launchBrowser, type RunningBrowser } from "./support/browser.js";
import { ProjectEventBody } from "../src/http/route-schemas.js";
import { startGateway, type RunningGateway } from "./support/gateway.js";

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
}
interface AsyncApi {
  asyncapi: string;
  channels: {
    root: { address: string; messages: Record<string, { name: string; payload: unknown }> };
  };
}

/** TypeBox marks schemas with symbols; the wire has only their JSON. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe("API documents and the /docs page", function () {
  this.timeout(60_000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({});
  });
  after(() => server.close());

  const getJson = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).to.equal(200);
    return (await response.json()) as T;
  };

  it("describes every REST route in OpenAPI 3.1, the push body from the schema the route validates with", async () => {
    const doc = await getJson<OpenApi>("/openapi.json");
    expect(doc.openapi).to.equal("3.1.0");
    expect(Object.keys(doc.paths)).to.have.members([
      "/healthz",
      "/readyz",
      "/ws/statistics",
      "/api/sessions/{session_id}",
      "/api/handlers",
      "/api/graphs",
      "/api/projects/{project_id}/events",
      "/metrics",
      "/openapi.json",
      "/asyncapi.json",
    ]);
    const push = doc.paths["/api/projects/{project_id}/events"]?.["post"];
    expect(plain(push?.requestBody?.content["application/json"])).to.deep.equal({
      schema: plain(ProjectEventBody),
    });
  });

  it("describes the Socket.IO protocol in AsyncAPI: each handler with its schema, and the server's events", async () => {
    const doc = await getJson<AsyncApi>("/asyncapi.json");
    expect(doc.asyncapi).to.equal("3.0.0");
    const messages = doc.channels.root.messages;
    for (const { definition } of server.gateway.handlers.values()) {
      expect(plain(messages[definition.type]?.payload)).to.deep.equal(plain(definition.schema));
    }
    for (const event of ["connected", "stream_chunk", "stream_end", "error", "server_shutdown"])
      expect(messages[`server_${event}`]?.name).to.equal(event);
  });

  describe("in a real browser", () => {
    let browser: RunningBrowser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(() => browser?.close());

    it("renders Swagger UI from local files within the CSP, with a link to the AsyncAPI document", async () => {
      const page = await browser.newPage();
      const requested: string[] = [];
      page.on("request", (request) => requested.push(request.url()));
      page.on("response", (response) => {
        if (response.status() >= 400) requested.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${server.url}/docs`);
      await page.waitForSelector(".opblock-summary-path");
      const paths = await page.locator(".opblock-summary-path").allTextContents();
      expect(paths.map((p) => p.replace(/\u200b/g, ""))).to.include(
        "/api/projects/{project_id}/events",
      );
      expect(await page.getByTestId("asyncapi-link").getAttribute("href")).to.equal(
        "/asyncapi.json",
      );
      expect(browser.problems).to.deep.equal([]);
      expect(requested.filter((url) => !url.startsWith(server.url))).to.deep.equal([]);
      await page.close();
    });
  });
});
