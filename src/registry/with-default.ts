import type { Static, TSchema } from "@sinclair/typebox";

/** A schema whose `default` the types can see: TypeBox's own options keep it from them. */
export type TWithDefault<S extends TSchema = TSchema> = S & { default: Static<S> };

/**
 * A property the client may leave out: the validator fills in `value`, so the
 * handler always receives it, and the typed client (agent-gateway/client)
 * makes it optional. `Type.Integer({ default: 2 })` behaves the same on the
 * wire, but its default is invisible to the types.
 */
export function WithDefault<S extends TSchema>(schema: S, value: Static<S>): TWithDefault<S> {
  return { ...schema, default: value };
}
