// How one setting is declared: the pieces src/core/settings.ts is built from.
import {
  Type,
  type NumberOptions,
  type Static,
  type TLiteral,
  type TSchema,
  type TUnion,
} from "@sinclair/typebox";

export interface Setting<V = unknown> {
  /** The environment variable. */
  readonly name: string;
  /** Type, bounds and default, as the environment's (string) value is checked. */
  readonly schema: TSchema;
  /** The README's words for it: the settings table shows exactly this. */
  readonly description: string;
  /** A value that grants access (a key, or a URL that may carry a password): never printed. */
  readonly secret: boolean;
  /** The unit the variable is written in; `seconds` reach Config in milliseconds. */
  readonly unit: "seconds" | "milliseconds" | "bytes" | undefined;
  /** The README's words for a default that is not one literal value. */
  readonly shownDefault: string | undefined;
  /** Checked value → the value Config holds; throws an Error saying what is wrong. */
  readonly toConfig: (value: unknown) => V;
}

/** A tree of settings; its shape is the shape of the Config it is read into. */
export interface SettingsTree {
  readonly [key: string]: Setting | SettingsTree;
}

/** What a tree of settings reads into: each leaf becomes the type of its value. */
export type Parsed<T> = T extends Setting<infer V> ? V : { -readonly [K in keyof T]: Parsed<T[K]> };

interface Extras<In, V> {
  secret?: boolean;
  unit?: "seconds" | "milliseconds" | "bytes";
  shownDefault?: string;
  /** For a value Config holds in another form than the variable's (a list, a flag). */
  parse?: (value: In) => V;
}

function declare<V>(
  name: string,
  schema: TSchema,
  description: string,
  extras: Omit<Extras<never, never>, "parse">,
  toConfig: (value: unknown) => V,
): Setting<V> {
  return {
    name,
    schema,
    description,
    secret: extras.secret ?? false,
    unit: extras.unit,
    shownDefault: extras.shownDefault,
    toConfig,
  };
}

/** A setting with a default: its value is never undefined. */
export function setting<S extends TSchema, V = Static<S>>(
  name: string,
  schema: S,
  description: string,
  extras: Extras<Static<S>, V> = {},
): Setting<V> {
  if (schema.default === undefined) throw new Error(`${name}: setting() needs a default`);
  const parse = extras.parse ?? ((value: Static<S>) => value as V);
  return declare(name, schema, description, extras, (value) => parse(value as Static<S>));
}

/** A setting that may be left unset: its value is then undefined. */
export function optional<S extends TSchema, V = Static<S>>(
  name: string,
  schema: S,
  description: string,
  extras: Extras<Static<S>, V> = {},
): Setting<V | undefined> {
  if (schema.default !== undefined) throw new Error(`${name}: optional() takes no default`);
  const parse = extras.parse ?? ((value: Static<S>) => value as V);
  return declare(name, schema, description, extras, (value) =>
    value === undefined ? undefined : parse(value as Static<S>),
  );
}

/** A duration written in seconds; Config holds it in milliseconds. */
export function seconds(
  name: string,
  bounds: NumberOptions & { default: number },
  description: string,
): Setting<number> {
  return setting(name, Type.Number(bounds), description, {
    unit: "seconds",
    parse: (value) => value * 1000,
  });
}

/** One of a few words, e.g. `oneOf(["enqueue", "reject"], { default: "enqueue" })`. */
export function oneOf<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number] } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  );
}

/** Every leaf of a tree, in declaration order. */
export function leaves(tree: SettingsTree): Setting[] {
  return Object.values(tree).flatMap((node) => (isSetting(node) ? [node] : leaves(node)));
}

/** The tree with each leaf replaced by what `read` gives for it. */
export function mapLeaves<T extends SettingsTree>(
  tree: T,
  read: (setting: Setting) => unknown,
): Parsed<T> {
  const entries = Object.entries(tree).map(([key, node]) => [
    key,
    isSetting(node) ? read(node) : mapLeaves(node, read),
  ]);
  return Object.fromEntries(entries) as Parsed<T>;
}

function isSetting(node: Setting | SettingsTree): node is Setting {
  return typeof node["toConfig"] === "function";
}
