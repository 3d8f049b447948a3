/** How results are printed: aligned plain-text tables for people, JSON for scripts. */

export interface Column<TRow> {
  header: string;
  value: (row: TRow) => string;
  /** Longest the column gets; longer values end in "…". */
  max?: number;
}

function table<TRow>(
  rows: readonly TRow[],
  columns: readonly Column<TRow>[],
): string {
  const cells = rows.map((row) =>
    columns.map((column) => clip(column.value(row), column.max)),
  );
  const widths = columns.map((column, index) =>
    Math.max(
      column.header.length,
      ...cells.map((line) => (line[index] ?? "").length),
    ),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    render(columns.map((column) => column.header.toUpperCase())),
    ...cells.map(render),
  ].join("\n");
}

function clip(value: string, max: number | undefined): string {
  const oneLine = value.replace(/\s+/g, " ");
  if (max === undefined || oneLine.length <= max) return oneLine;
  return `${oneLine.slice(0, max - 1)}…`;
}

/** JSON for `--json`: dates as ISO strings, one document per call. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function shortDate(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

/** A list command's output: the rows as JSON with `--json`, else a table, or `empty` if none. */
export function printRows<TRow>(
  context: { json: boolean; out: (text: string) => void },
  rows: readonly TRow[],
  { empty, columns }: { empty: string; columns: readonly Column<TRow>[] },
): void {
  if (context.json) context.out(json(rows));
  else context.out(rows.length === 0 ? empty : table(rows, columns));
}
