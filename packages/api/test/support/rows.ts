/**
 * The database as tests compare it: every synced row (validated with the @repo/schema row
 * schemas), the reducer's prediction for a call against what the server wrote, row counts.
 */
import { expect } from "vitest";

import type { Db } from "@repo/db";
import type {
  MutationDefinition,
  MutationName,
  RowTables,
} from "@repo/mutations";
import type { TableName } from "@repo/schema";
import {
  applyRowChanges,
  emptyRowTables,
  mutationsByName,
  viewOf,
} from "@repo/mutations";
import { SYNCED_TABLES, TABLE_NAMES } from "@repo/schema";

import type { TestUser } from "./users";
import { SELECT_BY_TABLE as selects } from "../../src/routers/selects";
import { mutate } from "./users";

/** Every synced row, read through Prisma and validated with the @repo/schema row schemas. */
export async function snapshot(db: Db): Promise<RowTables> {
  const tables = emptyRowTables();
  const [users, projects, members, issues, comments] = await Promise.all([
    db.user.findMany({ select: selects.users }),
    db.project.findMany({ select: selects.projects }),
    db.projectMember.findMany({ select: selects.project_members }),
    db.issue.findMany({ select: selects.issues }),
    db.comment.findMany({ select: selects.comments }),
  ]);
  const put = (table: TableName, rows: { id: string }[]) => {
    const map = tables[table] as Map<string, unknown>;
    for (const row of rows) map.set(row.id, SYNCED_TABLES[table].parse(row));
  };
  put("users", users);
  put("projects", projects);
  put("project_members", members);
  put("issues", issues);
  put("comments", comments);
  return tables;
}

/** Rows per table as sorted arrays: readable diffs when a comparison fails. */
export function plain(tables: RowTables) {
  return Object.fromEntries(
    TABLE_NAMES.map((table) => [
      table,
      [...(tables[table] as Map<string, unknown>).entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, row]) => row),
    ]),
  );
}

/**
 * Runs the reducer and the server procedure on the same input and checks that the database
 * ends up exactly as the reducer predicted from the rows before, and that the returned txid is
 * the transaction that wrote them (xmin of every inserted/updated row, and the mutation log).
 */
export async function expectServerMatchesReducer(
  db: Db,
  user: TestUser,
  name: MutationName,
  args: unknown,
) {
  const definition = mutationsByName[name] as unknown as MutationDefinition;
  const before = await snapshot(db);
  const changes = definition.reduce(
    viewOf(before),
    definition.input.parse(args),
    { userId: user.id },
  );
  const predicted = applyRowChanges(before, changes);

  const mutationId = user.nextMutationId;
  const result = await mutate(user, name, args);

  const after = await snapshot(db);
  expect(plain(after)).toEqual(plain(predicted));
  expect(changes.length).toBeGreaterThan(0);
  for (const change of changes) {
    if (change.type === "delete") continue;
    const id = change.type === "insert" ? change.row.id : change.id;
    expect(await xminOf(db, change.table, id)).toBe(result.txid);
  }
  const [log] = await db.$queryRaw<{ txid: string }[]>`
    SELECT txid::text AS txid FROM mutation_log
     WHERE client_id = ${user.clientId}::uuid AND mutation_id = ${mutationId}`;
  expect(Number(log?.txid)).toBe(result.txid);
  return { result, changes };
}

export async function xminOf(
  db: Db,
  table: TableName,
  id: string,
): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ xmin: string }[]>(
    `SELECT xmin::text AS xmin FROM "${table}" WHERE id = $1::uuid`,
    id,
  );
  return Number(rows[0]?.xmin);
}

/** Count of rows in every synced table plus the mutation log: "nothing was written". */
export async function rowCounts(db: Db) {
  const [row] = await db.$queryRaw<Record<string, bigint>[]>`
    SELECT (SELECT count(*) FROM projects) AS projects,
           (SELECT count(*) FROM project_members) AS project_members,
           (SELECT count(*) FROM issues) AS issues,
           (SELECT count(*) FROM comments) AS comments,
           (SELECT max(updated_at) FROM issues) AS issues_updated,
           (SELECT max(updated_at) FROM comments) AS comments_updated,
           (SELECT max(updated_at) FROM projects) AS projects_updated,
           (SELECT max(updated_at) FROM project_members) AS members_updated`;
  return row;
}
