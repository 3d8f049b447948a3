/** `issues import <file.csv> --project …`: the CSV import with a progress bar and a report. */
import { Presets, SingleBar } from "cli-progress";

import type { CliContext } from "../context";
import type { ImportSummary } from "../csv/import";
import { sessionFor } from "../context";
import { importIssues } from "../csv/import";
import { CliError, EXIT } from "../errors";
import { json } from "../output";
import { readShape } from "../shapes";
import { resolveProjectId } from "./projects";
import { withConnections } from "./run-writes";

/**
 * Clients writing side by side. Rows are independent creates (their order in the list comes
 * from their sort keys, not from when they commit), so lanes change no outcome; measured on the
 * 2-core dev VM: see the README.
 */
const LANES = 8;

/** Problems listed in the text report; `--json` lists them all. */
const SHOWN_PROBLEMS = 50;

export async function importCommand(
  context: CliContext,
  file: string,
  options: { project: string },
): Promise<void> {
  const session = await sessionFor(context);
  const projectId = await resolveProjectId(session, options.project);
  const existingIds = new Set(
    (
      await readShape(session, {
        name: "issues",
        params: { project: projectId },
      })
    ).map((issue) => issue.id),
  );
  // A bar only on a terminal: piped output (logs, CI) gets the summary alone.
  const bar = process.stderr.isTTY
    ? new SingleBar(
        {
          format:
            "importing [{bar}] {percentage}% | {written} new, {already} already there, {bad} bad",
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(100, 0, { written: 0, already: 0, bad: 0 });
  let summary: ImportSummary;
  try {
    summary = await withConnections(
      context,
      { session, lanes: LANES },
      (connections) =>
        importIssues({
          file,
          projectId,
          existingIds,
          connections,
          signal: context.signal,
          onProgress: ({ bytesRead, totalBytes, summary: progress }) =>
            bar?.update(
              totalBytes === 0
                ? 100
                : Math.floor((100 * bytesRead) / totalBytes),
              {
                written: progress.written,
                already: progress.alreadyImported,
                bad: progress.bad.length,
              },
            ),
        }),
    );
  } finally {
    bar?.stop();
  }
  const badRows = new Set(summary.bad.map((problem) => problem.line)).size;
  const rowsPerSecond = Math.round(
    (summary.rows * 1000) / Math.max(1, summary.elapsedMs),
  );
  if (context.json) context.out(json({ ...summary, rowsPerSecond }));
  else {
    context.out(
      `${summary.rows} rows: ${summary.written} issues created, ${summary.alreadyImported} already imported, ${badRows} bad (${(summary.elapsedMs / 1000).toFixed(1)} s, ${rowsPerSecond} rows/s)`,
    );
    for (const problem of summary.bad.slice(0, SHOWN_PROBLEMS))
      context.err(
        `line ${problem.line}: ${problem.column ? `${problem.column}: ` : ""}${problem.message}`,
      );
    if (summary.bad.length > SHOWN_PROBLEMS)
      context.err(
        `… and ${summary.bad.length - SHOWN_PROBLEMS} more problems (--json lists them all)`,
      );
  }
  if (badRows > 0)
    throw new CliError(
      `${badRows} bad rows were not imported; fix them and run the same command again`,
      EXIT.failed,
    );
}
