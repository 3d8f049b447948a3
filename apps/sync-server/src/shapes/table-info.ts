/**
 * What the server needs to know about a table: its columns (type, array dims, nullability,
 * primary-key position, typmod) and replica identity, read from the catalog. Also renders the
 * `electric-schema` header exactly as Electric's `schema.ex` does.
 */
import type pg from "pg";

import type { QualifiedName } from "./identifiers";
import { InvalidRequestError } from "../protocol/errors";
import {
  isSystemSchema,
  systemTableError,
  tableNotFoundError,
} from "./identifiers";

export interface ColumnInfo {
  name: string;
  /** pg_attribute.atttypid: compared with pgoutput relation messages to detect type changes. */
  typeOid: number;
  /** pg_type.typname; for arrays the element type (Electric's convention). */
  type: string;
  /** 0 for scalars. */
  dims: number;
  notNull: boolean;
  /** 0-based position in the primary key, if part of it. */
  pkIndex: number | undefined;
  typmod: number;
  isEnum: boolean;
  isGenerated: boolean;
}

export interface TableInfo {
  oid: number;
  schema: string;
  name: string;
  /** All columns in attribute order. */
  columns: ColumnInfo[];
  /** Primary-key column names in key order; all columns (sorted) when the table has no PK. */
  primaryKey: string[];
  hasPrimaryKey: boolean;
  replicaIdentityFull: boolean;
}

const TABLE_QUERY = `
  SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relreplident AS replident,
         c.relkind AS kind, c.relpersistence AS persistence
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = $2`;

const RELATION_KINDS: Record<string, string> = {
  v: "a view",
  m: "a materialized view",
  S: "a sequence",
  f: "a foreign table",
  i: "an index",
  I: "an index",
  c: "a composite type",
  t: "a TOAST table",
};

const COLUMNS_QUERY = `
  SELECT a.attname AS name,
         a.atttypid::int AS type_oid,
         CASE WHEN t.typcategory = 'A' THEN et.typname ELSE t.typname END AS type,
         CASE WHEN t.typcategory = 'A' THEN greatest(a.attndims, 1) ELSE 0 END AS dims,
         a.attnotnull AS not_null,
         a.atttypmod AS typmod,
         (CASE WHEN t.typcategory = 'A' THEN et.typtype ELSE t.typtype END) = 'e' AS is_enum,
         a.attgenerated <> '' AS is_generated,
         array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) AS pk_index
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
    LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
   WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attnum`;

interface ColumnRow {
  name: string;
  type_oid: number;
  type: string;
  dims: number;
  not_null: boolean;
  typmod: number;
  is_enum: boolean;
  is_generated: boolean;
  pk_index: number | null;
}

export async function loadTableInfo(
  db: pg.Pool | pg.PoolClient,
  table: QualifiedName,
): Promise<TableInfo> {
  const found = await db.query<{
    oid: number;
    schema: string;
    name: string;
    replident: string;
    kind: string;
    persistence: string;
  }>(TABLE_QUERY, [table.schema, table.name]);
  const row = found.rows[0];
  if (!row) {
    throw tableNotFoundError(table);
  }
  // Checked here too (not only when the name is parsed): stored shapes come back through here.
  if (isSystemSchema(row.schema)) throw systemTableError(table);
  // Refused before the shape exists, so before any ALTER TABLE or ALTER PUBLICATION.
  if (row.kind !== "r" && row.kind !== "p") {
    const kind = RELATION_KINDS[row.kind];
    throw InvalidRequestError.of(
      "table",
      `"${table.schema}"."${table.name}" is ${kind ? `${kind}, ` : ""}not a table: only tables can be synced`,
    );
  }
  // Logical replication carries no changes of unlogged or temporary tables.
  if (row.persistence !== "p")
    throw InvalidRequestError.of(
      "table",
      `Table "${table.schema}"."${table.name}" is ${row.persistence === "u" ? "unlogged" : "temporary"}: logical replication cannot sync it`,
    );
  const { rows } = await db.query<ColumnRow>(COLUMNS_QUERY, [row.oid]);
  const columns = rows.map((column): ColumnInfo => ({
    name: column.name,
    typeOid: column.type_oid,
    type: column.type,
    dims: column.dims,
    notNull: column.not_null,
    pkIndex: column.pk_index ?? undefined,
    typmod: column.typmod,
    isEnum: column.is_enum,
    isGenerated: column.is_generated,
  }));
  const pkColumns = columns
    .filter((column) => column.pkIndex !== undefined)
    .sort((a, b) => (a.pkIndex ?? 0) - (b.pkIndex ?? 0))
    .map((column) => column.name);
  const hasPrimaryKey = pkColumns.length > 0;
  return {
    oid: row.oid,
    schema: row.schema,
    name: row.name,
    columns,
    primaryKey: hasPrimaryKey
      ? pkColumns
      : columns.map((column) => column.name).sort(),
    hasPrimaryKey,
    replicaIdentityFull: row.replident === "f",
  };
}

type SchemaEntry = Record<string, string | number | boolean>;

/** `electric-schema` header value for the selected columns (`schema.ex`). */
export function electricSchema(columns: readonly ColumnInfo[]): string {
  const schema: Record<string, SchemaEntry> = {};
  for (const column of columns) {
    const entry: SchemaEntry = { type: column.type };
    if (column.dims > 0) entry.dims = column.dims;
    if (column.pkIndex !== undefined) entry.pk_index = column.pkIndex;
    if (column.notNull) entry.not_null = true;
    Object.assign(entry, typmodAttributes(column));
    schema[column.name] = entry;
  }
  return JSON.stringify(schema);
}

const INTERVAL_FIELDS: Record<number, string> = {
  [1 << 2]: "YEAR",
  [1 << 1]: "MONTH",
  [1 << 3]: "DAY",
  [1 << 10]: "HOUR",
  [1 << 11]: "MINUTE",
  [1 << 12]: "SECOND",
  [(1 << 2) | (1 << 1)]: "YEAR TO MONTH",
  [(1 << 3) | (1 << 10)]: "DAY TO HOUR",
  [(1 << 3) | (1 << 10) | (1 << 11)]: "DAY TO MINUTE",
  [(1 << 3) | (1 << 10) | (1 << 11) | (1 << 12)]: "DAY TO SECOND",
  [(1 << 10) | (1 << 11)]: "HOUR TO MINUTE",
  [(1 << 10) | (1 << 11) | (1 << 12)]: "HOUR TO SECOND",
  [(1 << 11) | (1 << 12)]: "MINUTE TO SECOND",
};

/** Decodes typmods the way Electric's `schema.ex` reports them. */
function typmodAttributes(column: ColumnInfo): SchemaEntry {
  const { typmod, type } = column;
  if (typmod < 0) return {};
  switch (type) {
    case "varchar":
      return { max_length: typmod - 4 };
    case "bpchar":
      return { length: typmod - 4 };
    case "bit":
    case "varbit":
      return { length: typmod };
    case "time":
    case "timetz":
    case "timestamp":
    case "timestamptz":
      return { precision: typmod };
    case "numeric": {
      const value = typmod - 4;
      return { precision: value >> 16, scale: value & 0xffff };
    }
    case "interval": {
      const precision = typmod & 0xffff;
      const fields = INTERVAL_FIELDS[(typmod >> 16) & 0x7fff];
      return {
        ...(precision !== 0xffff ? { precision } : {}),
        ...(fields ? { fields } : {}),
      };
    }
    default:
      return { type_mod: typmod };
  }
}
