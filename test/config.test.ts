import { expect } from "chai";
import { ConfigError, loadConfig } from "../src/core/config.js";
import { startGateway } from "./support/gateway.js";

describe("configuration", () => {
  const refusals: Array<[string, RegExp]> = [
    ["app.example.com", /"app\.example\.com" is not an origin.*e\.g\. https:\/\/app/],
    ["https://app.example.com/", /write it as https:\/\/app\.example\.com$/],
    ["https://App.Example.com:443", /write it as https:\/\/app\.example\.com$/],
    ["https://app.example.com/path", /write it as https:\/\/app\.example\.com$/],
    ["javascript:alert(1)", /"javascript:alert\(1\)" is not an origin/],
    ["null", /"null" is not an origin/],
  ];
  for (const [entry, reason] of refusals) {
    it(`refuses CORS_ORIGINS entry ${entry}, saying how to write it`, () => {
      expect(() => loadConfig({ CORS_ORIGINS: `https://ok.example, ${entry}` }))
        .to.throw(ConfigError, /CORS_ORIGINS/)
        .with.property("message")
        .that.matches(reason);
    });
  }

  it("accepts origins with a port, several of them, or *", () => {
    expect(
      loadConfig({ CORS_ORIGINS: "http://localhost:5173, https://app.example.com" }).corsOrigins,
    ).to.deep.equal(["http://localhost:5173", "https://app.example.com"]);
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).to.equal("*");
  });

  it("refuses LOG_LEVEL=silly, which would log every frame", () => {
    expect(() => loadConfig({ LOG_LEVEL: "silly" })).to.throw(ConfigError, /LOG_LEVEL/);
  });

  it("allows a listed origin and not one that merely starts like it", async () => {
    const server = await startGateway({ CORS_ORIGINS: "https://app.example.com" });
    const allowOrigin = async (origin: string) =>
      (await fetch(`${server.url}/healthz`, { headers: { origin } })).headers.get(
        "access-control-allow-origin",
      );
    expect(await allowOrigin("https://app.example.com")).to.equal("https://app.example.com");
    expect(await allowOrigin("https://app.example.com.evil.net")).to.equal(null);
    expect(await allowOrigin("http://app.example.com")).to.equal(null);
    await server.close();
  });
});
