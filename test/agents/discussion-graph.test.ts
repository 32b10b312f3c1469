import { expect } from "chai";
import type { BaseMessage } from "@langchain/core/messages";
import {
  buildDiscussionGraph,
  DEFAULT_PERSONAS,
  DemoChatModel,
  type Turn,
} from "../../src/agents/index.js";
import { collect, named, tokens } from "./support.js";

const TOPIC = "remote work in small teams";

describe("discussion graph", () => {
  it("has three distinct default personas with valid node names", () => {
    expect(DEFAULT_PERSONAS).to.have.length(3);
    expect(new Set(DEFAULT_PERSONAS.map((p) => p.name)).size).to.equal(3);
    expect(new Set(DEFAULT_PERSONAS.map((p) => p.style)).size).to.equal(3);
    for (const p of DEFAULT_PERSONAS) expect(p.name).to.match(/^[a-z]+$/);
  });

  it("lets three personas take turns for two rounds, streaming from every node", async () => {
    const graph = buildDiscussionGraph({
      model: new DemoChatModel({ tokenDelayMs: 1 }),
      participants: DEFAULT_PERSONAS,
      rounds: 2,
    });
    const events = await collect(graph.streamEvents({ topic: TOPIC }, { version: "v2" }));
    const names = DEFAULT_PERSONAS.map((p) => p.name);

    // Speaking order, read from the node runs as the run manager sees them.
    const nodeStarts = named(events, "on_chain_start").filter(
      (e) => e.name === e.metadata["langgraph_node"] && names.includes(e.name),
    );
    expect(nodeStarts.map((e) => e.name)).to.deep.equal([...names, ...names]);
    expect(nodeStarts.map((e) => (e.data.input as { round: number }).round)).to.deep.equal([
      1, 1, 1, 2, 2, 2,
    ]);

    // Every token says who speaks in which round.
    const streamed = named(events, "on_chat_model_stream");
    for (const e of streamed) {
      expect(names).to.include(e.metadata["langgraph_node"]);
      expect(e.metadata["discussion_speaker"]).to.equal(e.metadata["langgraph_node"]);
      expect(e.metadata["discussion_round"]).to.be.oneOf([1, 2]);
    }
    for (const name of names) expect(tokens(events, name).length).to.be.greaterThan(5);

    const final = named(events, "on_chain_end", "LangGraph")[0]?.data.output as {
      topic: string;
      round: number;
      turns: Turn[];
    };
    expect(final.round).to.equal(2);
    expect(final.turns.map((t) => `${t.speaker}@${t.round}`)).to.deep.equal([
      "optimist@1",
      "skeptic@1",
      "pragmatist@1",
      "optimist@2",
      "skeptic@2",
      "pragmatist@2",
    ]);
    expect(new Set(final.turns.map((t) => t.text)).size).to.equal(6);
    for (const turn of final.turns) {
      expect(turn.text).to.include(TOPIC);
      expect(turn.text).to.include(turn.speaker);
    }
    // Tokens of one turn add up to its text.
    const firstTurnTokens = streamed
      .filter(
        (e) => e.metadata["langgraph_node"] === "optimist" && e.metadata["discussion_round"] === 1,
      )
      .map((e) => String((e.data.chunk as { content: string }).content));
    expect(firstTurnTokens.join("")).to.equal(final.turns[0]?.text);
  });

  it("shows each speaker the topic and every earlier turn", async () => {
    const graph = buildDiscussionGraph({
      model: new DemoChatModel({ tokenDelayMs: 0 }),
      participants: DEFAULT_PERSONAS,
      rounds: 1,
    });
    const events = await collect(graph.streamEvents({ topic: TOPIC }, { version: "v2" }));
    const prompts = named(events, "on_chat_model_start").map((e) =>
      (e.data.input as { messages: BaseMessage[][] }).messages[0]!.map((m) => m.text).join("\n"),
    );
    const output = named(events, "on_chain_end", "LangGraph")[0]?.data.output as { turns: Turn[] };
    expect(prompts).to.have.length(3);
    prompts.forEach((prompt, i) => {
      expect(prompt).to.include(`Topic: ${TOPIC}`);
      expect(prompt).to.include(`You are ${DEFAULT_PERSONAS[i]?.name}`);
      for (const earlier of output.turns.slice(0, i)) expect(prompt).to.include(earlier.text);
      for (const later of output.turns.slice(i)) expect(prompt).not.to.include(later.text);
    });
    // The demo speakers answer the one before them.
    expect(output.turns[1]?.text).to.include("When optimist says");
  });

  it("refuses participants that cannot be node names, and bad round counts", () => {
    const model = new DemoChatModel();
    const build =
      (participants: { name: string; style: string }[], rounds = 1) =>
      () =>
        buildDiscussionGraph({ model, participants, rounds });
    expect(build([])).to.throw(/at least one/);
    expect(build([{ name: "two words", style: "x" }])).to.throw(/not a valid node name/);
    expect(build([{ name: "__end__", style: "x" }])).to.throw(/not a valid node name/);
    expect(build([DEFAULT_PERSONAS[0]!, DEFAULT_PERSONAS[0]!])).to.throw(/used twice/);
    expect(build(DEFAULT_PERSONAS, 0)).to.throw(/rounds/);
  });

  it("runs a single participant for several rounds", async () => {
    const graph = buildDiscussionGraph({
      model: new DemoChatModel({ tokenDelayMs: 0 }),
      participants: [{ name: "historian", style: "measured, with the long view" }],
      rounds: 3,
    });
    const result = await graph.invoke({ topic: "railways" });
    expect(result.turns.map((t) => t.round)).to.deep.equal([1, 2, 3]);
    expect(result.turns[0]?.text).to.include("historian's distance");
  });
});
