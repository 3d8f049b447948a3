/** What identifies a shape: two requests with equal definitions share one log and handle. */
import type { QualifiedName } from "./identifiers";

export type ReplicaMode = "default" | "full";
export type LogMode = "full" | "changes_only";

export interface ShapeDefinition {
  table: QualifiedName;
  where: string | undefined;
  params: Readonly<Record<string, string>>;
  /** As requested (undefined = all columns). */
  columns: readonly string[] | undefined;
  replica: ReplicaMode;
  log: LogMode;
}

export function definitionKey(definition: ShapeDefinition): string {
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
