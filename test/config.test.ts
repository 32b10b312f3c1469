import { expect } from "chai";
import { ConfigError, loadConfig } from "../src/core/config.js";
import { leaves } from "../src/core/setting.js";
import { SETTINGS } from "../src/core/settings.js";
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

  // Each secret with a value it refuses; the value must not reach the message (a log, a terminal).
  const leakedSecret = "s3cr3t-v4l";
  const refusedSecrets: Record<string, string> = {
    API_KEY: leakedSecret,
    AUTH_JWT_SECRET: leakedSecret,
    METRICS_TOKEN: leakedSecret,
    ADMIN_UI_PASSWORD: leakedSecret,
    BACKEND_WEBHOOK_SECRET: leakedSecret,
    REDIS_URL: `http://:${leakedSecret}@cache:6379`,
    CHECKPOINT_DATABASE_URL: `mysql://app:${leakedSecret}@db/app`,
    BACKEND_WEBHOOK_URL: `ftp://hook:${leakedSecret}@backend/in`,
  };
  const secrets = leaves(SETTINGS).filter((s) => s.secret);
  it("tries every secret setting that can be refused", () => {
    const unconstrained = ["OPENAI_API_KEY"]; // any string is a key some server accepts
    expect(secrets.map((s) => s.name)).to.have.members([
      ...Object.keys(refusedSecrets),
      ...unconstrained,
    ]);
  });
  for (const [name, value] of Object.entries(refusedSecrets)) {
    it(`refuses a bad ${name} without printing it`, () => {
      const env = { [name]: value, ADMIN_UI_USERNAME: "admin" };
      expect(() => loadConfig(env))
        .to.throw(
          ConfigError,
          name.endsWith("_URL")
            ? new RegExp(`${name}="[a-z]+://[a-z]*:\\*\\*\\*@`)
            : new RegExp(`${name} \\(\\d+ characters, value not shown\\): must`),
        )
        .with.property("message")
        .that.does.not.include(leakedSecret);
    });
  }

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
