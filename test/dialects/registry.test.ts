import { expect } from "chai";
import { GatewayError } from "../../src/core/errors.js";
import { DIALECTS, dialectFor, native } from "../../src/dialects/index.js";

describe("dialect registry", () => {
  it("defaults to the native protocol", () => {
    for (const nothing of [undefined, null, ""]) expect(dialectFor(nothing)).to.equal(native);
  });

  it("finds each dialect by its id", () => {
    for (const id of [
      "native",
      "learning-coach",
      "agent-engine",
      "autocode",
      "flask-chat",
      "group-chat",
    ])
      expect(dialectFor(id).id).to.equal(id);
    expect([...DIALECTS.keys()]).to.have.length(6);
  });

  it("refuses unknown and hostile ids with unknown_dialect", () => {
    for (const id of [
      "__proto__",
      "constructor",
      "toString",
      "NATIVE",
      "group-chat ",
      42,
      ["native"],
      { id: "native" },
    ]) {
      expect(() => dialectFor(id))
        .to.throw(GatewayError)
        .with.property("code", "unknown_dialect");
    }
  });

  it("marks the dialect whose frames need an event name as Socket.IO only", () => {
    expect(dialectFor("flask-chat").transports).to.deep.equal(["socket.io"]);
    expect(dialectFor("learning-coach").paths).to.include("/ws/agents/{session_id}");
    expect(dialectFor("agent-engine").paths).to.deep.equal(["/ws/agent"]);
  });
});
