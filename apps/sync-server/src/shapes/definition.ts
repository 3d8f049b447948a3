/** What identifies a shape: two requests with equal definitions share one log and handle. */
import type { QualifiedName } from "./identifiers";

type ReplicaMode = "default" | "full";
type LogMode = "full" | "changes_only";

export interface ShapeDefinition {
  table: QualifiedName;
  where: string | undefined;
  params: Readonly<Record<string, string>>;
  /** As requested (undefined = all columns). */
  columns: readonly string[] | undefined;
  replica: ReplicaMode;
  log: LogMode;
}

/**
 * Keys by object: the server reuses one parsed definition for every request with the same
 * query string (all live clients of a shape), so the key is computed once per distinct URL.
 * Definitions are never mutated after parsing.
 */
const keys = new WeakMap<ShapeDefinition, string>();

export function definitionKey(definition: ShapeDefinition): string {
  let key = keys.get(definition);
  if (key === undefined) {
    key = computeKey(definition);
    keys.set(definition, key);
  }
  return key;
}

function computeKey(definition: ShapeDefinition): string {
  return JSON.stringify([
    definition.table.schema,
    definition.table.name,
    definition.where ?? null,
    Object.entries(definition.params).sort(([a], [b]) => Number(a) - Number(b)),
    definition.columns ? [...definition.columns].sort() : null,
    definition.replica,
    definition.log,
  ]);
}
