import type { Dialect, Frame, NativeMessage, Translator, TranslatorContext } from "./dialect.js";
import { isoTimestamp, numberField, stringField, without } from "./frame-fields.js";
import { nativeRequest, type DisplayNames } from "./group-chat-request.js";

/** One speaker's turn: its own message id in this protocol. */
interface Turn {
  id: string;
  agent: string;
  round: number;
  content: string;
  /** Turns after the first begin with the native "\n\n" separator, which is not the speaker's text. */
  separatorPending: boolean;
}

interface RunTurns {
  count: number;
  round: number;
  spokenThisRound: Set<string>;
  current?: Turn;
}

const ENDS = new Set(["stream_end", "cancelled", "error"]);

/** Discussions whose speakers' names this connection shows as given; a refused one never ends, so the oldest goes. */
const MAX_NAMED_RUNS = 16;

/** Turn ids depend only on the run and the turn's place in it, so every client and every replay agree. */
export const turnId = (messageId: string, turn: number): string => `${messageId}:${turn}`;

/**
 * The group-chat protocol: every frame is `{type, data, timestamp}`; a
 * discussion is announced with conversation_created and conversation_started,
 * and each speaker turn streams as streaming_token (with the turn's text so
 * far in full_content), then streaming_complete and new_message.
 *
 * Turns are found from the chunks' speaker as well as from speaker_change, so
 * a resume, whose replay holds only chunks and the end, yields the same turns.
 */
class GroupChatTranslator implements Translator {
  private readonly runs = new Map<string, RunTurns>();
  /** By run: the names this connection's client gave its speakers, where they differ from the native ids. */
  private readonly displayNames = new Map<string, DisplayNames>();

  constructor(private readonly context: TranslatorContext) {}

  inbound(type: string, payload: unknown): NativeMessage {
    const request = nativeRequest(type, payload);
    if (request.names) {
      const { messageId, byId } = request.names;
      this.displayNames.delete(messageId);
      this.displayNames.set(messageId, byId);
      const oldest = this.displayNames.keys().next().value;
      if (this.displayNames.size > MAX_NAMED_RUNS && oldest !== undefined)
        this.displayNames.delete(oldest);
    }
    return { type, payload: request.payload };
  }

  outbound(type: string, native: Record<string, unknown>): Frame[] {
    const messageId = stringField(native, "message_id");
    if (messageId === undefined)
      return [this.wrap(type, native, without(native, ["type", "timestamp"]))];
    const payload = this.shownAs(messageId, native);
    if (ENDS.has(type)) this.displayNames.delete(messageId);
    if (type === "stream_start") return this.start(messageId, payload);
    if (type === "speaker_change")
      return this.openTurn(
        messageId,
        payload,
        stringField(payload, "agent") ?? "agent",
        numberField(payload, "round"),
      );
    if (type === "stream_chunk") return this.chunk(messageId, payload);
    const wrapped = this.wrap(type, payload, without(payload, ["type", "timestamp"]));
    if (!ENDS.has(type)) return [wrapped];
    const frames = this.closeTurn(messageId, payload);
    this.runs.delete(messageId);
    return [...frames, wrapped];
  }

  /** The event with its speaker named as this client named it. */
  private shownAs(messageId: string, payload: Record<string, unknown>): Record<string, unknown> {
    const agent = stringField(payload, "agent");
    const shown = agent === undefined ? undefined : this.displayNames.get(messageId)?.get(agent);
    return shown === undefined ? payload : { ...payload, agent: shown };
  }

  private start(messageId: string, payload: Record<string, unknown>): Frame[] {
    if (payload["kind"] !== "discussion")
      return [this.wrap("stream_start", payload, without(payload, ["type", "timestamp"]))];
    const data = { session_id: this.context.sessionId, conversation_id: messageId };
    return [
      this.wrap("conversation_created", payload, data),
      this.wrap("conversation_started", payload, data),
    ];
  }

  private chunk(messageId: string, payload: Record<string, unknown>): Frame[] {
    const agent = stringField(payload, "agent") ?? "agent";
    const run = this.run(messageId);
    const frames = run.current?.agent === agent ? [] : this.openTurn(messageId, payload, agent);
    const turn = run.current;
    let token = stringField(payload, "content") ?? "";
    if (!turn) return frames;
    if (turn.separatorPending) {
      token = token.replace(/^\n\n/, "");
      turn.separatorPending = false;
    }
    if (token.length === 0) return frames;
    turn.content += token;
    frames.push(
      this.wrap("streaming_token", payload, {
        ...this.turnFields(messageId, turn),
        token,
        full_content: turn.content,
        is_complete: false,
      }),
    );
    return frames;
  }

  private openTurn(
    messageId: string,
    payload: Record<string, unknown>,
    agent: string,
    announcedRound?: number,
  ): Frame[] {
    const frames = this.closeTurn(messageId, payload);
    const run = this.run(messageId);
    // Speakers take turns in a fixed order, so a speaker heard again starts the next round.
    const round = announcedRound ?? (run.spokenThisRound.has(agent) ? run.round + 1 : run.round);
    if (round !== run.round) run.spokenThisRound.clear();
    run.round = round;
    run.spokenThisRound.add(agent);
    run.count++;
    const turn: Turn = {
      id: turnId(messageId, run.count),
      agent,
      round,
      content: "",
      separatorPending: run.count > 1,
    };
    run.current = turn;
    frames.push(this.wrap("speaker_change", payload, this.turnFields(messageId, turn)));
    return frames;
  }

  private closeTurn(messageId: string, payload: Record<string, unknown>): Frame[] {
    const run = this.runs.get(messageId);
    const turn = run?.current;
    if (!run || !turn) return [];
    run.current = undefined;
    const complete = this.wrap("streaming_complete", payload, {
      ...this.turnFields(messageId, turn),
      full_content: turn.content,
      is_complete: true,
    });
    const message = {
      id: turn.id,
      role: "assistant",
      sender: turn.agent,
      content: turn.content,
      round: turn.round,
      timestamp: isoTimestamp(payload),
    };
    const stored = this.wrap("new_message", payload, {
      session_id: this.context.sessionId,
      conversation_id: messageId,
      message,
    });
    return [complete, stored];
  }

  private turnFields(messageId: string, turn: Turn) {
    return {
      session_id: this.context.sessionId,
      conversation_id: messageId,
      message_id: turn.id,
      agent_name: turn.agent,
      round: turn.round,
    };
  }

  private run(messageId: string): RunTurns {
    let run = this.runs.get(messageId);
    if (!run) this.runs.set(messageId, (run = { count: 0, round: 1, spokenThisRound: new Set() }));
    return run;
  }

  private wrap(
    type: string,
    native: Record<string, unknown>,
    data: Record<string, unknown>,
  ): Frame {
    return { type, payload: { type, data, timestamp: isoTimestamp(native) } };
  }
}

export const groupChat: Dialect = {
  id: "group-chat",
  describe:
    "The group-chat protocol: {type, data, timestamp} frames; each speaker turn its own message_id with streaming_token (full_content so far), streaming_complete and new_message. Costly: quadratic in a turn's length.",
  transports: ["websocket", "socket.io"],
  paths: [],
  createTranslator: (context) => new GroupChatTranslator(context),
};
