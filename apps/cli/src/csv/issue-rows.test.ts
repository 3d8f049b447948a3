import { describe, expect, it } from "vitest";

import type { RowContext } from "./issue-rows";
import { parseRow, readHeader, startLine } from "./issue-rows";

const PROJECT = "6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6a7b";
const OTHER_PROJECT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const context = (projectId = PROJECT): RowContext => ({
  projectId,
  at: new Date("2026-11-30T12:00:00.000Z"),
  defaultSortKey: (line) => `g${line}`,
});
const header = readHeader(["key", "title", "status", "priority"]);
const row = (record: string[], line = 2, projectId = PROJECT) =>
  parseRow(record, { line, header, context: context(projectId) });

describe("readHeader", () => {
  it("refuses unknown, repeated and missing columns", () => {
    expect(() => readHeader(["title", "owner"])).toThrow(
      /unknown column "owner"/,
    );
    expect(() => readHeader(["title", "Title"])).toThrow(/appears twice/);
    expect(() => readHeader(["status"])).toThrow(/no "title" column/);
  });
});

describe("parseRow", () => {
  it("the same key in the same project is the same issue id, on every run", () => {
    const first = row(["K-1", "A", "todo", "high"], 2);
    const again = row(["K-1", "Renamed", "done", "low"], 40);
    const elsewhere = row(["K-1", "A", "todo", "high"], 2, OTHER_PROJECT);
    if (!first.ok || !again.ok || !elsewhere.ok) throw new Error("valid rows");
    expect(again.input.id).toBe(first.input.id);
    expect(elsewhere.input.id).not.toBe(first.input.id);
  });

  it("a row without a key is named by its cells, not by its line", () => {
    const a = row(["", "A", "todo", "high"], 2);
    const moved = row(["", "A", "todo", "high"], 90);
    const other = row(["", "B", "todo", "high"], 2);
    if (!a.ok || !moved.ok || !other.ok) throw new Error("valid rows");
    expect(moved.input.id).toBe(a.input.id);
    expect(other.input.id).not.toBe(a.input.id);
  });

  it("reports each invalid cell by its CSV column, from the mutation's schema", () => {
    const result = row(["K", " ", "closed", "high"], 7);
    expect(result).toMatchObject({
      ok: false,
      problems: [
        { line: 7, column: "title" },
        { line: 7, column: "status" },
      ],
    });
  });

  it("empty cells take the column's default; a short record is refused whole", () => {
    const result = row(["K", "A", "", ""]);
    expect(result).toMatchObject({ ok: true, input: { sortKey: "g2" } });
    if (result.ok) expect(result.input.status).toBeUndefined();
    expect(row(["K", "A"], 5)).toMatchObject({
      ok: false,
      problems: [
        { line: 5, column: "", message: "has 2 fields, the header 4" },
      ],
    });
  });
});

describe("startLine", () => {
  it("is the first line of a record spanning several", () => {
    expect(startLine(2, "A,todo\n")).toBe(2);
    expect(startLine(5, '\n"B\nmulti",done\n')).toBe(4);
  });
});
