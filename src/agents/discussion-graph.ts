import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  Annotation,
  END,
  START,
  StateGraph,
  type LangGraphRunnableConfig,
} from "@langchain/langgraph";
import { textOf } from "./message-text.js";
import { personaMessages, type Persona, type Turn } from "./persona-prompt.js";

export type { Persona, Turn } from "./persona-prompt.js";

export const DEFAULT_PERSONAS: Persona[] = [
  { name: "optimist", style: "upbeat and curious, looking for opportunities" },
  { name: "skeptic", style: "dry and probing, asking for evidence" },
  { name: "pragmatist", style: "down to earth, focused on next steps" },
];

export const DiscussionState = Annotation.Root({
  topic: Annotation<string>(),
  /** The round being spoken (1-based); a node's input state holds its own round. */
  round: Annotation<number>({ reducer: (_, next) => next, default: () => 1 }),
  /** Every turn so far, in speaking order. */
  turns: Annotation<Turn[]>({ reducer: (all, more) => all.concat(more), default: () => [] }),
});

const NODE_NAME = /^[A-Za-z][\w-]{0,63}$/;

/**
 * A round-table: one node per participant, named after it, speaking in order
 * for `rounds` rounds. Each turn's model call sees the topic and every earlier
 * turn, and carries `discussion_round` and `discussion_speaker` in its
 * metadata, so each streamed token says who speaks in which round.
 */
export function buildDiscussionGraph(opts: {
  model: BaseChatModel;
  participants: Persona[];
  rounds: number;
}) {
  const { model, participants, rounds } = opts;
  if (participants.length === 0) throw new Error("A discussion needs at least one participant");
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("rounds must be a whole number ≥ 1");
  const names = new Set<string>();
  for (const { name } of participants) {
    // Reserved names such as "__start__" and "__end__" belong to the graph itself.
    if (!NODE_NAME.test(name) || name.startsWith("__"))
      throw new Error(`Participant name "${name}" is not a valid node name`);
    if (names.has(name)) throw new Error(`Participant name "${name}" is used twice`);
    names.add(name);
  }
  const totalTurns = participants.length * rounds;

  const speak =
    (persona: Persona, closesRound: boolean) =>
    async (state: typeof DiscussionState.State, config: LangGraphRunnableConfig) => {
      const { round } = state;
      const reply = await model.invoke(
        personaMessages(persona, state.topic, state.turns, round, rounds),
        {
          ...config,
          metadata: {
            ...config.metadata,
            discussion_round: round,
            discussion_speaker: persona.name,
          },
        },
      );
      const turn: Turn = { speaker: persona.name, round, text: textOf(reply.content) };
      // The last speaker of a round opens the next one; after the final round
      // `round` stays at `rounds`, so the final state reads naturally.
      const next = closesRound && round < rounds ? { round: round + 1 } : {};
      return { turns: [turn], ...next };
    };

  const builder = new StateGraph(DiscussionState).addNode(
    participants.map(
      (p, i) =>
        [p.name, speak(p, i === participants.length - 1)] as [string, ReturnType<typeof speak>],
    ),
  );
  const first = participants[0]?.name as string;
  builder.addEdge(START, first);
  participants.slice(1).forEach((p, i) => builder.addEdge(participants[i]?.name as string, p.name));
  builder.addConditionalEdges(
    participants.at(-1)?.name as string,
    (state) => (state.turns.length >= totalTurns ? END : first),
    [first, END],
  );
  // Each discussion stands alone: without a checkpointer of its own, the
  // gateway would lend its own and every discussion would continue the last.
  return builder.compile({ checkpointer: false });
}

/**
 * Each turn is one graph step, so LangGraph's default limit of 25 steps
 * stopped every discussion of 25 turns or more; one step more than the turns
 * leaves room for the input step.
 */
export function discussionStepLimit(participants: number, rounds: number): number {
  return participants * rounds + 1;
}

export type DiscussionGraph = ReturnType<typeof buildDiscussionGraph>;
