/**
 * Keeps @repo/schema from drifting from the database and Prisma:
 * - each row schema's keys are the table's columns as Electric's `snakeCamelMapper()` names them
 *   (minus the columns a shape never selects), read from the migrated database itself;
 * - enum values equal Prisma's (and so the Postgres enums);
 * - the Prisma selections the procedures return select exactly the schemas' keys (their types:
 *   src/routers/selects.test-d.ts, checked by vitest's typecheck).
 */
import type { z } from "zod";
import { snakeCamelMapper } from "@electric-sql/client";
import { describe, expect, it } from "vitest";

import type { TableName } from "@repo/schema";
import { IssuePriority, IssueStatus, ProjectRole } from "@repo/db";
import { withClient } from "@repo/dev-postgres";
import {
  IssuePrioritySchema,
  IssueStatusSchema,
  ProjectRoleSchema,
  SYNCED_TABLES,
  TABLE_NAMES,
  UNSYNCED_COLUMNS,
} from "@repo/schema";
import { dbTest } from "@repo/test-support";

import { SELECT_BY_TABLE } from "../src/routers/selects";

const keysOf = (schema: z.ZodObject) => Object.keys(schema.shape).sort();

describe("row schemas", () => {
  dbTest(
    "have one key per synced column, named as Electric's snakeCamelMapper names it",
    async ({ database }) => {
      const mapper = snakeCamelMapper();
      const columns = await withClient(database.url, async (client) => {
        const { rows } = await client.query<{
          table_name: TableName;
          column_name: string;
        }>(
          `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = ANY($1)`,
          [TABLE_NAMES],
        );
        return rows;
      });
      for (const table of TABLE_NAMES) {
        const synced = columns
          .filter((c) => c.table_name === table)
          .map((c) => c.column_name)
          .filter((column) => !UNSYNCED_COLUMNS[table].includes(column));
        expect(
          synced.map((column) => mapper.decode(column)).sort(),
          table,
        ).toEqual(keysOf(SYNCED_TABLES[table]));
        for (const key of keysOf(SYNCED_TABLES[table]))
          expect(synced, `${table}.${key}`).toContain(mapper.encode(key));
      }
    },
  );

  it("select exactly the schema keys in what procedures return", () => {
    for (const table of TABLE_NAMES)
      expect(Object.keys(SELECT_BY_TABLE[table]).sort(), table).toEqual(
        keysOf(SYNCED_TABLES[table]),
      );
  });
});

describe("enums", () => {
  it("have Prisma's values in Prisma's order", () => {
    expect(ProjectRoleSchema.options).toEqual(Object.values(ProjectRole));
    expect(IssueStatusSchema.options).toEqual(Object.values(IssueStatus));
    expect(IssuePrioritySchema.options).toEqual(Object.values(IssuePriority));
  });
});
