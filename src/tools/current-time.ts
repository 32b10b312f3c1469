import { tool } from "@langchain/core/tools";
import { Type, type Static } from "@sinclair/typebox";
import { ToolInputError } from "./tool-input-error.js";

const CurrentTimeInput = Type.Object(
  {
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "IANA zone, e.g. Europe/Paris" }),
    ),
  },
  { additionalProperties: false },
);

export function currentTime(timezone = "UTC"): {
  iso: string;
  timezone: string;
  local: string;
  unix: number;
} {
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      dateStyle: "full",
      timeStyle: "long",
    });
  } catch {
    throw new ToolInputError(
      `Unknown time zone "${timezone}" (use an IANA name such as Europe/Paris)`,
    );
  }
  const now = new Date();
  return {
    iso: now.toISOString(),
    timezone: formatter.resolvedOptions().timeZone,
    local: formatter.format(now),
    unix: now.getTime() / 1000,
  };
}

export const currentTimeTool = tool(
  (input: Static<typeof CurrentTimeInput>) => currentTime(input.timezone),
  {
    name: "current_time",
    description: "Returns the current date and time, in UTC or in the given IANA time zone.",
    schema: CurrentTimeInput,
  },
);
