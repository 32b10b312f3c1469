import { readFileSync } from "node:fs";
import { expect } from "chai";
import { leaves, type Setting } from "../src/core/setting.js";
import { SETTINGS } from "../src/core/settings.js";

// The README settings table and .env.example are written by hand, for people;
// these tests hold them to the declarations in src/core/settings.ts.
const declared = leaves(SETTINGS);
const byName = new Map(declared.map((setting) => [setting.name, setting]));

/** `| \`NAME\` | default | meaning |` rows of the README's Configuration table. */
function readmeRows(readme: string): Map<string, { shown: string; meaning: string }> {
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^#+ /m)[0] ?? "";
  const rows = new Map<string, { shown: string; meaning: string }>();
  for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) {
    const [name = "", shown = "", meaning = ""] = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    expect(rows.has(name), `README lists ${name} twice`).to.equal(false);
    rows.set(name.replaceAll("`", ""), { shown, meaning: meaning.replaceAll("\\|", "|") });
  }
  return rows;
}

/** `NAME=value` lines of .env.example; `# NAME=example` lines are commented out. */
function envExampleLines(text: string): Map<string, { value: string; commented: boolean }> {
  const lines = new Map<string, { value: string; commented: boolean }>();
  for (const line of text.split("\n")) {
    const match = /^(# ?)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, comment, name = "", value = ""] = match;
    expect(lines.has(name), `.env.example sets ${name} twice`).to.equal(false);
    lines.set(name, { value, commented: comment !== undefined });
  }
  return lines;
}

/** A default as the environment writes it; "" for none. */
const defaultText = (setting: Setting): string =>
  String((setting.schema.default as string | number | boolean | undefined) ?? "");

const shownDefault = (setting: Setting): string => {
  if (setting.shownDefault !== undefined) return setting.shownDefault;
  if (setting.schema.default === undefined) return "unset";
  return defaultText(setting) === "" ? "empty" : `\`${defaultText(setting)}\``;
};

const readmeRow = (setting: Setting) =>
  `| \`${setting.name}\` | ${shownDefault(setting)} | ${setting.description.replaceAll("|", "\\|")} |`;

describe("settings documentation", () => {
  const readme = readmeRows(readFileSync("README.md", "utf8"));
  const example = envExampleLines(readFileSync(".env.example", "utf8"));

  it("the README table has a row for each declared setting and no other", () => {
    const missing = declared.filter((s) => !readme.has(s.name)).map(readmeRow);
    expect(missing, "rows to add to the README table").to.deep.equal([]);
    const unknown = [...readme.keys()].filter((name) => !byName.has(name));
    expect(unknown, "README rows for settings nobody declares").to.deep.equal([]);
  });

  it("each README row shows the declared default and description", () => {
    const wrong = declared
      .filter((s) => {
        const row = readme.get(s.name);
        return row && (row.shown !== shownDefault(s) || row.meaning !== s.description);
      })
      .map(readmeRow);
    expect(wrong, "README rows as the declarations have them").to.deep.equal([]);
  });

  it(".env.example has a line for each declared setting and no other", () => {
    const missing = declared.filter((s) => !example.has(s.name)).map((s) => s.name);
    expect(missing, "settings missing from .env.example").to.deep.equal([]);
    const unknown = [...example.keys()].filter((name) => !byName.has(name));
    expect(unknown, ".env.example lines for settings nobody declares").to.deep.equal([]);
  });

  it(".env.example sets each setting to its default, so a copy changes nothing", () => {
    const wrong: string[] = [];
    for (const [name, { value, commented }] of example) {
      const setting = byName.get(name);
      if (!setting) continue;
      if (commented && setting.schema.default !== undefined)
        wrong.push(`${name} has a default (${defaultText(setting)}): write it uncommented`);
      if (!commented && value !== defaultText(setting))
        wrong.push(`${name}=${value}, not ${name}=${defaultText(setting)}`);
    }
    expect(wrong).to.deep.equal([]);
  });
});
