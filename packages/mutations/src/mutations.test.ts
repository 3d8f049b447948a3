import { describe, expect, it } from "vitest";

import type { Comment, Issue } from "@repo/schema";

import type { AnyAppMutation } from "./index";
import type { RowTables } from "./row-store";
import {
  applyRowChanges,
  emptyRowTables,
  mutations,
  mutationsByName,
  RowChangeError,
  viewOf,
} from "./index";

const actor = { userId: "00000000-0000-4000-8000-000000000001" };
const projectId = "00000000-0000-4000-8000-0000000000a1";
const t0 = new Date("2026-01-01T00:00:00.000Z");
const t1 = new Date("2026-01-02T00:00:00.000Z");
const t2 = new Date("2026-01-03T00:00:00.000Z");

function issue(id: string, overrides: Partial<Issue> = {}): Issue {
  return {
    id,
    projectId,
    title: "Issue",
    description: "",
    status: "backlog",
    priority: "none",
    assigneeId: null,
    creatorId: actor.userId,
    sortKey: "a0",
    completedAt: null,
    createdAt: t0,
    updatedAt: t0,
    ...overrides,
  };
}

function comment(id: string, issueId: string): Comment {
  return {
    id,
    projectId,
    issueId,
    authorId: actor.userId,
    body: "hi",
    createdAt: t0,
    updatedAt: t0,
  };
}

function tablesWith(issues: Issue[], comments: Comment[] = []): RowTables {
  const tables = emptyRowTables();
  for (const row of issues) tables.issues.set(row.id, row);
  for (const row of comments) tables.comments.set(row.id, row);
  return tables;
}

/** Parses like the procedures do, then reduces and applies. */
function run<TName extends keyof typeof mutationsByName>(
  name: TName,
  tables: RowTables,
  rawInput: unknown,
): RowTables {
  const definition = mutationsByName[name];
  const input: unknown = definition.input.parse(rawInput);
  const reduce = definition.reduce as (
    ...args: [ReturnType<typeof viewOf>, unknown, typeof actor]
  ) => ReturnType<typeof definition.reduce>;
  return applyRowChanges(tables, reduce(viewOf(tables), input, actor));
}

const ISSUE = "00000000-0000-4000-8000-0000000000b1";

describe("issues.update", () => {
  it("sets completedAt when an issue becomes done, keeps it while done, clears it after", () => {
    let tables = tablesWith([issue(ISSUE)]);
    tables = run("issues.update", tables, {
      id: ISSUE,
      status: "done",
      at: t1,
    });
    expect(tables.issues.get(ISSUE)).toMatchObject({
      status: "done",
      completedAt: t1,
      updatedAt: t1,
    });
    tables = run("issues.update", tables, {
      id: ISSUE,
      status: "done",
      title: "Renamed",
      at: t2,
    });
    expect(tables.issues.get(ISSUE)).toMatchObject({
      completedAt: t1,
      title: "Renamed",
      updatedAt: t2,
    });
    tables = run("issues.update", tables, {
      id: ISSUE,
      status: "todo",
      at: t2,
    });
    expect(tables.issues.get(ISSUE)?.completedAt).toBeNull();
  });

  it("changes only the given fields (undefined means unchanged, null clears)", () => {
    const before = issue(ISSUE, { assigneeId: actor.userId, priority: "high" });
    const tables = run("issues.update", tablesWith([before]), {
      id: ISSUE,
      assigneeId: null,
      at: t1,
    });
    expect(tables.issues.get(ISSUE)).toEqual({
      ...before,
      assigneeId: null,
      updatedAt: t1,
    });
  });

  it("predicts nothing for an issue the client does not have", () => {
    const tables = emptyRowTables();
    const input = mutations.issues.update.input.parse({
      id: ISSUE,
      title: "x",
      at: t1,
    });
    expect(
      mutations.issues.update.reduce(viewOf(tables), input, actor),
    ).toEqual([]);
  });
});

describe("issues.delete", () => {
  it("deletes the issue's comments too, and only those", () => {
    const other = "00000000-0000-4000-8000-0000000000b2";
    const tables = run(
      "issues.delete",
      tablesWith(
        [issue(ISSUE), issue(other)],
        [
          comment("00000000-0000-4000-8000-0000000000c1", ISSUE),
          comment("00000000-0000-4000-8000-0000000000c2", other),
        ],
      ),
      { id: ISSUE },
    );
    expect([...tables.issues.keys()]).toEqual([other]);
    expect([...tables.comments.keys()]).toEqual([
      "00000000-0000-4000-8000-0000000000c2",
    ]);
  });
});

describe("reducers", () => {
  it("use the input's ids and timestamps: the same input gives the same rows", () => {
    const input = {
      id: "00000000-0000-4000-8000-0000000000a2",
      ownerMemberId: "00000000-0000-4000-8000-0000000000d1",
      name: "  Kit  ",
      at: t1,
    };
    const a = run("projects.create", emptyRowTables(), input);
    const b = run("projects.create", emptyRowTables(), input);
    expect(a).toEqual(b);
    expect(a.projects.get(input.id)).toEqual({
      id: input.id,
      name: "Kit",
      description: "",
      ownerId: actor.userId,
      archivedAt: null,
      createdAt: t1,
      updatedAt: t1,
    });
    expect(a.project_members.get(input.ownerMemberId)?.role).toBe("owner");
  });

  it("do not modify the tables they read", () => {
    const tables = tablesWith([issue(ISSUE)]);
    run("issues.update", tables, { id: ISSUE, title: "New", at: t1 });
    expect(tables.issues.get(ISSUE)?.title).toBe("Issue");
  });
});

describe("applyRowChanges", () => {
  it("refuses to update or delete a missing row and to insert an existing one", () => {
    const tables = tablesWith([issue(ISSUE)]);
    expect(() =>
      applyRowChanges(tables, [
        { type: "insert", table: "issues", row: issue(ISSUE) },
      ]),
    ).toThrow(RowChangeError);
    expect(() =>
      applyRowChanges(tables, [
        { type: "delete", table: "comments", id: ISSUE },
      ]),
    ).toThrow("cannot delete comments");
    expect(() =>
      applyRowChanges(tables, [
        {
          type: "update",
          table: "projects",
          id: ISSUE,
          changes: { name: "x" },
        },
      ]),
    ).toThrow("row does not exist");
  });
});

describe("inputs", () => {
  it("reject oversized text, unknown keys, bad ids and bad sort keys with field paths", () => {
    const result = mutations.issues.create.input.safeParse({
      id: "not-a-uuid",
      projectId,
      title: "x".repeat(301),
      sortKey: "a b",
      at: t1,
      extra: 1,
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues
      .map((issue) => issue.path.join("."))
      .sort();
    expect(paths).toEqual(["", "id", "sortKey", "title"]);
  });

  it("every mutation is reachable by its name", () => {
    for (const group of Object.values(mutations))
      for (const definition of Object.values(group) as AnyAppMutation[])
        expect(mutationsByName[definition.name]).toBe(definition);
  });
});
