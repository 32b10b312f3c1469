import { expect } from "chai";
import { AIMessage, HumanMessage, type AIMessageChunk } from "@langchain/core/messages";
import { DemoChatModel } from "../../src/agents/index.js";
import { findExpression } from "../../src/agents/demo-replies.js";
import { collect, gatewayTools, named, tokens } from "./support.js";

describe("demo chat model", () => {
  it("streams word-sized tokens that add up to the final message", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 1 });
    const events = await collect(
      model.streamEvents("Tell me about ocean tides and the moon", { version: "v2" }),
    );
    const streamed = tokens(events);
    expect(streamed.length).to.be.greaterThan(10);
    for (const token of streamed) expect(token).to.match(/^\s?\S+$/);
    const final = named(events, "on_chat_model_end")[0]?.data.output as AIMessageChunk;
    expect(streamed.join("")).to.equal(final.content);
    expect(final.content).to.include("ocean").and.include("tides");
    expect(final.response_metadata).to.include({ vendor: "demo", model_name: "demo" });
    expect(model._llmType()).to.equal("demo");
  });

  it("gives the same answer through invoke, deterministically, in two to four sentences", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 });
    const first = await model.invoke([new HumanMessage("How do volcanoes form islands?")]);
    const second = await model.invoke([new HumanMessage("How do volcanoes form islands?")]);
    expect(first.content).to.equal(second.content);
    const sentences = first.text.match(/[.!?](\s|$)/g) ?? [];
    expect(sentences.length).to.be.within(2, 4);
    expect(first.content).to.include("volcanoes");
    expect(first.response_metadata).to.include({ vendor: "demo", model_name: "demo" });
  });

  it("waits tokenDelayMs between tokens", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 5 });
    const started = performance.now();
    let count = 0;
    for await (const chunk of await model.stream("Describe a sunny garden")) {
      if (chunk.content !== "") count++;
    }
    expect(count).to.be.greaterThan(5);
    expect(performance.now() - started).to.be.at.least((count - 1) * 5 - 5);
  });

  it("stops promptly when the signal aborts, with the abort reason", async () => {
    // A long delay: finishing the answer would take minutes, stopping takes nothing.
    const model = new DemoChatModel({ tokenDelayMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error("client went away");
    const received: string[] = [];
    const started = performance.now();
    let caught: unknown;
    try {
      for await (const chunk of await model.stream("Tell me a long story about dragons", {
        signal: controller.signal,
      })) {
        received.push(chunk.text);
        controller.abort(reason);
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).to.equal(reason);
    expect(received).to.have.length(1);
    expect(performance.now() - started).to.be.below(1000);
  });

  it("calls the calculator for arithmetic, with the expression from the question", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 }).bindTools(gatewayTools());
    const asked = await model.invoke([new HumanMessage("what is 12 * (3 + 4)?")]);
    expect(asked.tool_calls).to.have.length(1);
    expect(asked.tool_calls?.[0]).to.include({ name: "calculator", type: "tool_call" });
    expect(asked.tool_calls?.[0]?.args).to.deep.equal({ expression: "12 * (3 + 4)" });
    expect(asked.tool_calls?.[0]?.id).to.match(/^call_/);
    const calculate = await model.invoke([new HumanMessage("calculate 123 + 456")]);
    expect(calculate.tool_calls?.[0]?.args).to.deep.equal({ expression: "123 + 456" });
  });

  it("streams the tool call as tool_call_chunks", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 }).bindTools(gatewayTools());
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model.stream([new HumanMessage("calculate 2 ^ 10")])) {
      chunks.push(chunk);
    }
    expect(chunks.length).to.be.greaterThan(1);
    expect(chunks[0]?.tool_call_chunks?.[0]).to.include({ name: "calculator", index: 0 });
    const whole = chunks.reduce((a, b) => a.concat(b));
    expect(whole.tool_calls?.[0]?.args).to.deep.equal({ expression: "2 ^ 10" });
  });

  it("asks current_time about the time, with a zone when one is named", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 }).bindTools(gatewayTools());
    const asked = await model.invoke([new HumanMessage("What time is it in Europe/Paris?")]);
    expect(asked.tool_calls?.[0]).to.deep.include({
      name: "current_time",
      args: { timezone: "Europe/Paris" },
    });
  });

  it("does not pretend to call tools that are not bound", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 });
    const reply = await model.invoke([new HumanMessage("what is 12 * (3 + 4)?")]);
    expect(reply.tool_calls ?? []).to.have.length(0);
    expect(reply.content).to.include("12 * (3 + 4)").and.include("no calculator");
  });

  it("quotes the previous human message from the history", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 });
    const history = [
      new HumanMessage("My cat is called Miso, and she is 3 years old."),
      new AIMessage("What a lovely name."),
    ];
    for (const question of ["what did I say before?", "What was my previous message?"]) {
      const reply = await model.invoke([...history, new HumanMessage(question)]);
      expect(reply.content).to.include('"My cat is called Miso, and she is 3 years old."');
    }
    const alone = await model.invoke([new HumanMessage("what did I say before?")]);
    expect(alone.content).to.include("first message");
  });

  it("finds the whole arithmetic expression in a sentence", () => {
    expect(findExpression("what is 12 * (3 + 4)?")).to.equal("12 * (3 + 4)");
    expect(findExpression("calculate 123 + 456.")).to.equal("123 + 456");
    expect(findExpression("what is sqrt(16) + 2 please")).to.equal("sqrt(16) + 2");
    expect(findExpression("I have 3 cats and 2 dogs")).to.equal(undefined);
  });

  it("reads a worst-case run of parentheses and still finds expressions around it", () => {
    const parentheses = "(".repeat(31999) + "1";
    expect(findExpression(parentheses)).to.equal(undefined);
    expect(findExpression(`${parentheses} or 2 + 3 (((`)).to.equal("2 + 3");
    expect(findExpression("1+".repeat(16000))).to.equal("1+".repeat(15999) + "1");
  });

  it("answers history questions asked inside a long prompt of repeated words", async () => {
    const model = new DemoChatModel({ tokenDelayMs: 0 });
    const prompt = `${"what ".repeat(6000)}did I just say?`;
    const reply = await model.invoke([new HumanMessage("remember 42"), new HumanMessage(prompt)]);
    expect(reply.content).to.include('"remember 42"');
  });
});
