type JsonSchema = Record<string, unknown>;

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The schema a client must satisfy, derived from a handler's own schema:
 *
 * - An object that does not say otherwise is closed (`additionalProperties:
 *   false`), so a typo in an optional field is refused instead of ignored.
 *   A handler that wants an open object says `additionalProperties: true`.
 * - A property with a `default` is optional: TypeBox lists it as required
 *   because the handler always receives it, but the client may leave it out.
 *
 * Objects under `allOf` stay as written: closing each part of an intersection
 * would refuse the other parts' properties.
 */
export function toInputSchema(schema: JsonSchema): JsonSchema {
  const result: JsonSchema = { ...schema };
  const properties = schema["properties"];
  if (isSchema(properties)) {
    result["properties"] = mapValues(properties, toInputSchema);
    const required = schema["required"];
    if (Array.isArray(required)) {
      const stillRequired = required.filter((name: unknown) => {
        const property = typeof name === "string" ? properties[name] : undefined;
        return !(isSchema(property) && "default" in property);
      });
      if (stillRequired.length > 0) result["required"] = stillRequired;
      else delete result["required"];
    }
    if (!("additionalProperties" in schema) && !("patternProperties" in schema))
      result["additionalProperties"] = false;
  }
  for (const key of ["items", "additionalProperties", "not"] as const) {
    const sub = schema[key];
    if (isSchema(sub)) result[key] = toInputSchema(sub);
  }
  for (const key of ["anyOf", "oneOf", "prefixItems"] as const) {
    const list = schema[key];
    if (Array.isArray(list))
      result[key] = list.map((sub: unknown) => (isSchema(sub) ? toInputSchema(sub) : sub));
  }
  for (const key of ["patternProperties", "$defs"] as const) {
    const map = schema[key];
    if (isSchema(map)) result[key] = mapValues(map, toInputSchema);
  }
  return result;
}

function mapValues(map: JsonSchema, fn: (schema: JsonSchema) => JsonSchema): JsonSchema {
  return Object.fromEntries(
    Object.entries(map).map(([name, sub]) => [name, isSchema(sub) ? fn(sub) : sub]),
  );
}
