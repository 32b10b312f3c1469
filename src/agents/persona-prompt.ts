import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";

export interface Persona {
  /** Also the graph node's name, so it must be a valid node name (e.g. "optimist"). */
  name: string;
  /** How the persona talks, in a few words; goes into its system prompt. */
  style: string;
}

export interface Turn {
  speaker: string;
  round: number;
  text: string;
}

/** What a discussion turn's prompt says, read back by the demo model. */
export interface PersonaPrompt {
  name: string;
  style: string;
  topic: string;
  round: number;
  previous: Turn | undefined;
}

/**
 * The prompt for one turn: a system message with the persona and a human
 * message with the topic and the transcript. Plain text a real model reads
 * naturally; its fixed line prefixes let the demo model parse it back.
 */
export function personaMessages(
  persona: Persona,
  topic: string,
  turns: Turn[],
  round: number,
  rounds: number,
): BaseMessage[] {
  const transcript = turns.map(
    (t) => `- ${t.speaker} (round ${t.round}): ${t.text.replace(/\s+/g, " ")}`,
  );
  return [
    new SystemMessage(
      [
        `You are ${persona.name}, one participant in a round-table discussion.`,
        `Your style: ${persona.style}.`,
        "Stay in character, answer in two to four sentences, and react to what the others said.",
      ].join("\n"),
    ),
    new HumanMessage(
      [
        `Topic: ${topic}`,
        `Round ${round} of ${rounds}.`,
        transcript.length > 0 ? "Discussion so far:" : "Nobody has spoken yet.",
        ...transcript,
        `Your turn, ${persona.name}.`,
      ].join("\n"),
    ),
  ];
}

const NAME = /^You are (\S+), one participant in a round-table discussion\.$/m;
const STYLE = /^Your style: (.*)\.$/m;
const TOPIC = /^Topic: (.*)$/m;
const ROUND = /^Round (\d+) of \d+\.$/m;
const TURN = /^- (\S+) \(round (\d+)\): (.*)$/gm;

export function parsePersonaPrompt(texts: string[]): PersonaPrompt | undefined {
  const all = texts.join("\n");
  const name = NAME.exec(all)?.[1];
  const topic = TOPIC.exec(all)?.[1];
  if (name === undefined || topic === undefined) return undefined;
  const turns = [...all.matchAll(TURN)].map(([, speaker, round, text]) => ({
    speaker: speaker ?? "",
    round: Number(round),
    text: text ?? "",
  }));
  return {
    name,
    style: STYLE.exec(all)?.[1] ?? "plain",
    topic,
    round: Number(ROUND.exec(all)?.[1] ?? 1),
    previous: turns.at(-1),
  };
}
