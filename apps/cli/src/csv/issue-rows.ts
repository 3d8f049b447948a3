/**
 * What a CSV row of issues means: the header's columns, and each record turned into the input
 * of `issues.create`, checked by that mutation's own zod schema (no copy of a rule here). Pure,
 * so the rules are unit-tested without a server.
 */
import { createHash } from "node:crypto";
import { v5 as uuidv5 } from "uuid";

import type { CreateIssueInput } from "@repo/schema";
import { mutations } from "@repo/mutations";

/** CSV column → input field of `issues.create`. `key` names the row; it is not written. */
const CSV_COLUMNS = {
  key: null,
  title: "title",
  description: "description",
  status: "status",
  priority: "priority",
  assignee_id: "assigneeId",
  sort_key: "sortKey",
} as const satisfies Record<string, keyof CreateIssueInput | null>;

type CsvColumn = keyof typeof CSV_COLUMNS;

const COLUMN_OF_FIELD = new Map<string, CsvColumn>(
  Object.entries(CSV_COLUMNS).flatMap(([column, field]) =>
    field === null ? [] : [[field, column as CsvColumn]],
  ),
);

/**
 * Namespace of the issue ids the CLI derives (UUIDv5 of project + row key): fixed, so the same
 * row of the same project is the same issue on every run, on every machine.
 */
const IMPORT_NAMESPACE = "4f6b1d0e-8c1a-4d55-9a43-0d6a2a7c1e39";

class CsvHeaderError extends Error {
  override name = "CsvHeaderError";
}

/** Column positions of a header row; refuses unknown, repeated or missing required columns. */
export function readHeader(header: readonly string[]): Map<CsvColumn, number> {
  const positions = new Map<CsvColumn, number>();
  header.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (!(name in CSV_COLUMNS))
      throw new CsvHeaderError(
        `unknown column "${raw}" (columns: ${Object.keys(CSV_COLUMNS).join(", ")})`,
      );
    if (positions.has(name as CsvColumn))
      throw new CsvHeaderError(`column "${name}" appears twice`);
    positions.set(name as CsvColumn, index);
  });
  if (!positions.has("title"))
    throw new CsvHeaderError('the header has no "title" column');
  return positions;
}

export interface RowProblem {
  line: number;
  /** The CSV column at fault ('' for the row as a whole). */
  column: string;
  message: string;
}

export type ParsedRow =
  | { ok: true; line: number; input: CreateIssueInput }
  | { ok: false; problems: RowProblem[] };

export interface RowContext {
  projectId: string;
  /** Written as the issues' created_at/updated_at. */
  at: Date;
  /** Sort key of rows without a `sort_key`: keeps the file's order after earlier issues. */
  defaultSortKey: (line: number) => string;
}

/**
 * One record → the input of `issues.create`, or the problems with it by column. Empty cells
 * mean "not given" (the column's default), except `title`, which is required.
 */
export function parseRow(
  record: readonly string[],
  {
    line,
    header,
    context,
  }: { line: number; header: Map<CsvColumn, number>; context: RowContext },
): ParsedRow {
  if (record.length !== header.size)
    return {
      ok: false,
      problems: [
        {
          line,
          column: "",
          message: `has ${record.length} fields, the header ${header.size}`,
        },
      ],
    };
  const cell = (column: CsvColumn) => {
    const index = header.get(column);
    const value = index === undefined ? "" : (record[index] ?? "");
    return value === "" ? undefined : value;
  };
  const key = cell("key") ?? contentKey(record);
  const candidate = {
    id: uuidv5(`${context.projectId}\n${key}`, IMPORT_NAMESPACE),
    projectId: context.projectId,
    title: cell("title") ?? "",
    description: cell("description"),
    status: cell("status"),
    priority: cell("priority"),
    assigneeId: cell("assignee_id"),
    sortKey: cell("sort_key") ?? context.defaultSortKey(line),
    at: context.at,
  };
  const parsed = mutations.issues.create.input.safeParse(candidate);
  if (parsed.success) return { ok: true, line, input: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      line,
      column: columnOf(String(issue.path[0] ?? "")),
      message: issue.message,
    })),
  };
}

/** The CSV column of an input field (server field errors name fields too). */
export function columnOf(field: string): string {
  return COLUMN_OF_FIELD.get(field) ?? field;
}

/**
 * A row without a `key` is named by its content: the same cells are the same issue, wherever
 * the row moves in the file. (Two identical rows are then one issue.)
 */
function contentKey(record: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(record)).digest("hex");
}

/** The line a record starts on, from the line csv-parse ended it on and its raw text. */
export function startLine(endLine: number, raw: string): number {
  const text = raw.replace(/^[\r\n]+|[\r\n]+$/g, "");
  let newlines = 0;
  for (const char of text) if (char === "\n") newlines++;
  return endLine - newlines;
}
