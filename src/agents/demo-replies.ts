import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { textOf } from "./message-text.js";
import { parsePersonaPrompt, type PersonaPrompt } from "./persona-prompt.js";

/** What the demo model decided to say: plain text, or one call to a bound tool. */
export type DemoReply =
  | { kind: "text"; text: string }
  | { kind: "tool_call"; name: string; args: Record<string, unknown> };

const STOPWORDS = new Set(
  (
    "about above after again also because been before being below between both could does doing " +
    "down during each from further have having here into itself just like more most much only other " +
    "over same should some such than that their them then there these they this those through very " +
    "want what when where which while with would your yours please tell explain give know think"
  ).split(" "),
);

// Numbers, operators, parentheses and the calculator's function names: a run of
// these inside a sentence is the expression the person wants worked out.
const MATH_RUN =
  /(?:\d+(?:\.\d+)?|\b(?:sqrt|cbrt|abs|round|floor|ceil|min|max|log10|log2|log|ln|exp|sin|cos|tan|pi)\b|[-+*/^%(). ])+/gi;
const HAS_OPERATION = /(?:\d|\)|pi)\s*[-+*/^%]\s*[(\s]*(?:\d|pi|[a-z]+\()|[a-z]+\(\s*[\d.]/i;
const TIME_QUESTION =
  /\b(?:what time|current time|the time|time is it|time now|what date|the date|today's date|date today|what day)\b/i;
const TIME_ZONE = /\b([A-Z][A-Za-z]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?|UTC)\b/;
// "what … did I say": the two halves are searched separately, since one
// pattern with `.*` between them backtracks quadratically on a long prompt.
const WHAT = /\bwhat\b/i;
const DID_I_SAY =
  /\b(?:did|have)\s+i\s+(?:just\s+)?(?:say|said|ask|asked|write|wrote|type|typed)\b/i;
const EARLIER_MESSAGE = /\b(?:previous|last|earlier|prior)\s+(?:message|question)\b/i;
// What the calculator cannot end on: a dangling operator, an opening parenthesis, a dot.
const TRAILING_OPERATOR = /[-+*/^%(.\s]/;

/** Chooses the demo model's answer to a conversation; deterministic, so tests can rely on it. */
export function planReply(messages: BaseMessage[], tools: ReadonlySet<string>): DemoReply {
  const last = messages.at(-1);
  if (last && ToolMessage.isInstance(last))
    return { kind: "text", text: describeToolResults(messages) };

  const persona = parsePersonaPrompt(messages.map((m) => textOf(m.content)));
  if (persona) return { kind: "text", text: personaTurn(persona) };

  const humans = messages.filter((m) => m.getType() === "human").map((m) => textOf(m.content));
  const prompt = humans.at(-1)?.trim() ?? "";
  if (asksForHistory(prompt)) {
    const previous = humans.at(-2);
    return {
      kind: "text",
      text:
        previous === undefined
          ? "This is the first message you have sent in this conversation, so there is nothing earlier to quote."
          : `Your previous message was: "${previous}"`,
    };
  }

  const expression = findExpression(prompt);
  if (expression !== undefined) {
    if (tools.has("calculator"))
      return { kind: "tool_call", name: "calculator", args: { expression } };
    return {
      kind: "text",
      text: `That looks like arithmetic (${expression}), but no calculator tool is available to me here, and the demo model does not do sums in its head.`,
    };
  }

  if (TIME_QUESTION.test(prompt) && tools.has("current_time")) {
    const zone = TIME_ZONE.exec(prompt)?.[1];
    return { kind: "tool_call", name: "current_time", args: zone ? { timezone: zone } : {} };
  }

  return { kind: "text", text: musing(prompt) };
}

function asksForHistory(prompt: string): boolean {
  if (EARLIER_MESSAGE.test(prompt)) return true;
  const what = WHAT.exec(prompt);
  return what !== null && DID_I_SAY.test(prompt.slice(what.index + what[0].length));
}

/**
 * Linear in the text's length: a trailing-operator regex anchored with `$`
 * would be retried from every position of a run such as "((((…1", which
 * took seconds on a 32,000-character message.
 */
export function findExpression(text: string): string | undefined {
  const candidates = (text.match(MATH_RUN) ?? [])
    .map(withoutTrailingOperators)
    .filter((run) => /\d/.test(run) && HAS_OPERATION.test(run));
  // The longest run is the whole expression rather than a fragment such as "3 + 4".
  return candidates.sort((a, b) => b.length - a.length)[0];
}

function withoutTrailingOperators(run: string): string {
  let end = run.length;
  while (end > 0 && TRAILING_OPERATOR.test(run.charAt(end - 1))) end--;
  return run.slice(0, end).trim();
}

function describeToolResults(messages: BaseMessage[]): string {
  const results: ToolMessage[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!message || !ToolMessage.isInstance(message)) break;
    results.unshift(message);
  }
  const calls = new Map(
    messages
      .filter((m): m is AIMessage => AIMessage.isInstance(m))
      .flatMap((m) => m.tool_calls ?? [])
      .map((call) => [call.id, call]),
  );
  return results
    .map((result) => {
      const call = calls.get(result.tool_call_id);
      const output = textOf(result.content);
      const failed = result.status === "error" || output.startsWith("Error");
      if (call?.name === "calculator") {
        const expression = String(call.args["expression"]);
        return failed
          ? `I tried to work out ${expression}, but the calculator refused: ${output}`
          : `${expression} = ${output}. I checked it with the calculator tool.`;
      }
      if (call?.name === "current_time" && !failed) {
        const time = parseJson(output);
        if (time && typeof time["local"] === "string")
          return `It is now ${time["local"]} (time zone ${String(time["timezone"])}), according to the current_time tool.`;
      }
      return `The ${call?.name ?? result.name ?? "tool"} tool answered: ${output}`;
    })
    .join(" ");
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function keywords(text: string, limit = 3): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  return [...new Set(words.filter((w) => w.length >= 4 && !STOPWORDS.has(w)))].slice(0, limit);
}

function list(words: string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** A small, stable hash: the same prompt always gets the same wording. */
function pick<T>(key: string, options: readonly T[]): T {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return options[hash % options.length] as T;
}

function musing(prompt: string): string {
  const words = keywords(prompt);
  if (words.length === 0) {
    return "Hello! I am the offline demo model. Ask me to calculate something, for the current time, or what you said before, and I will show you how the agent streams its work.";
  }
  const first = words[0] as string;
  const approach = pick(prompt, [
    `A good way into ${first} is to start from what you already know and build outwards.`,
    `The interesting part of ${first} is how it connects to everything around it.`,
    `Most questions about ${first} get clearer once you split them into smaller ones.`,
  ]);
  return `You asked about ${list(words)}. ${approach} I am the offline demo model, so this reply is assembled from your own words rather than real knowledge.`;
}

// Stances keyed by words a persona's style tends to use, so differently styled
// personas disagree; an unknown style gets one chosen by the persona's name.
const STANCES: [RegExp, (topic: string) => string][] = [
  [
    /optimis|upbeat|opportunit|hope|cheer/i,
    (t) => `the upside of ${t} is bigger than people expect`,
  ],
  [
    /skeptic|sceptic|evidence|doubt|probing|critic/i,
    (t) => `${t} needs harder evidence before anyone gets excited`,
  ],
  [
    /pragmati|practical|next step|earth|concrete/i,
    (t) => `what matters about ${t} is what we can actually do on Monday morning`,
  ],
  [/histor|past|long view/i, (t) => `${t} looks very different from a historian's distance`],
  [/people|empath|care|human/i, (t) => `the people affected by ${t} deserve the first word`],
];

const CLAIM = /(?:I think|the view that) ([^.]+)\./;

function personaTurn({ name, style, topic, round, previous }: PersonaPrompt): string {
  const stance = (STANCES.find(([pattern]) => pattern.test(`${name} ${style}`)) ??
    pick(name, STANCES))[1](topic);
  const opening =
    round <= 1
      ? `${name} here, keeping it ${style}: I think ${stance}.`
      : `${name} again in round ${round}, still ${style}: I stand by the view that ${stance}.`;
  if (!previous) return `${opening} Let me open by asking what ${topic} really asks of us.`;
  const claim = CLAIM.exec(previous.text)?.[1];
  const said = claim
    ? `that ${claim}`
    : `something about ${list(keywords(previous.text, 2)) || topic}`;
  const reaction = pick(`${name} ${previous.speaker} ${round}`, [
    "I would push back on that",
    "I partly agree, with one caveat",
    "that deserves a closer look before we move on",
  ]);
  return `${opening} When ${previous.speaker} says ${said}, ${reaction}.`;
}
