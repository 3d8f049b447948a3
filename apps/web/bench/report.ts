/** Figures and the side-by-side table the bench prints. */
import { loadavg } from "node:os";

/** Nearest-rank quantile of unsorted values. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN
  );
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const kb = (value: number) => `${(value / 1024).toFixed(0)} KB`;
const mb = (value: number) => `${(value / 1024 / 1024).toFixed(1)} MB`;

export const format = { ms, kb, mb };

/** A table with one column per case; `rows` are [label, cells…]. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((width, i) => (i === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}
