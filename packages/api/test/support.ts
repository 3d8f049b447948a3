/**
 * Helpers of the api integration tests: real users with real sessions in a fresh database,
 * callers that authenticate with `Authorization: Bearer <token>` through the real resolver, and
 * a snapshot of every synced table to compare server writes with reducer predictions.
 */
import { randomBytes, randomUUID } from "node:crypto";
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

import {
  createBearerSessionResolver,
  createCaller,
  createTRPCContext,
} from "../src";
import {
  commentSelect,
  issueSelect,
  projectMemberSelect,
  projectSelect,
  userSelect,
} from "../src/routers/selects";

export type Caller = ReturnType<typeof createCaller>;

export interface TestUser {
  id: string;
  name: string;
  token: string;
  clientId: string;
  /** Next mutation id of this user's client. */
  nextMutationId: number;
  caller: Caller;
}

/** A user with an unexpired session, and a caller authenticated as them. */
export async function createUser(db: Db, name: string): Promise<TestUser> {
  const token = randomBytes(24).toString("base64url");
  const user = await db.user.create({
    data: {
      name,
      email: `${name.toLowerCase()}-${randomUUID()}@example.com`,
      sessions: {
        create: { token, expiresAt: new Date(Date.now() + 3_600_000) },
      },
    },
  });
  return {
    id: user.id,
    name,
    token,
    clientId: randomUUID(),
    nextMutationId: 1,
    caller: await callerFor(db, { authorization: `Bearer ${token}` }),
  };
}

export async function callerFor(
  db: Db,
  headers: Record<string, string>,
): Promise<Caller> {
  return createCaller(
    await createTRPCContext({
      db,
      headers: new Headers(headers),
      resolveSession: createBearerSessionResolver(db),
    }),
  );
}

type Procedure = (input: unknown) => Promise<{ data: unknown; txid: number }>;

/** The caller's procedure of a mutation name (`issues.create` → caller.issues.create). */
export function procedureOf(caller: Caller, name: MutationName): Procedure {
  const [group, procedure] = name.split(".") as [string, string];
  const router = Reflect.get(caller, group) as Record<string, Procedure>;
  const fn = router[procedure];
  if (!fn) throw new Error(`no procedure ${name}`);
  return fn;
}

/** Calls a mutation as `user` with the user's next mutation id. */
export function mutate(user: TestUser, name: MutationName, args: unknown) {
  return procedureOf(
    user.caller,
    name,
  )({
    clientId: user.clientId,
    mutationId: user.nextMutationId++,
    args,
  });
}

const selects = {
  users: userSelect,
  projects: projectSelect,
  project_members: projectMemberSelect,
  issues: issueSelect,
  comments: commentSelect,
} as const;

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

/** Fresh client-generated ids and a timestamp, as a client would send them. */
export const newId = () => randomUUID();
let clock = Date.parse("2026-03-01T00:00:00.000Z");
/** Strictly increasing timestamps (ms precision, as timestamptz(3) stores them). */
export const tick = () => new Date((clock += 1_000));
