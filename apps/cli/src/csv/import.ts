/**
 * CSV → `issues.create`, streaming: each record is parsed, checked by the mutation's schema
 * and, if valid, queued on the client runtime while the file is still being read. A window of
 * writes in flight bounds memory and the outbox files whatever the file's size; valid rows are
 * queued half a window at a time, in one tick, so each lane's outbox stores them with one
 * fsync. The runtime sends them in file order, one transaction each, so a row is written whole
 * or not at all. Issue ids come from (project, row key) — a re-run, or the replay of an
 * interrupted run, creates the same ids, which the server refuses as duplicates: counted as
 * already imported, never written twice.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parse } from "csv-parse";

import type { CreateIssueInput } from "@repo/schema";
import { mutations } from "@repo/mutations";
import { MutationRejectedError } from "@repo/sync";

import type { Connection } from "../connection";
import type { RowContext, RowProblem } from "./issue-rows";
import { isAlreadyDone } from "../commands/run-writes";
import { CliError, EXIT } from "../errors";
import { columnOf, parseRow, readHeader, startLine } from "./issue-rows";
import { timeSortKey } from "./sort-key";

export interface ImportSummary {
  /** Data records read (the header not counted). */
  rows: number;
  written: number;
  alreadyImported: number;
  bad: RowProblem[];
  elapsedMs: number;
  /** CPU time of this process (user + system), to tell its cost from the server's. */
  cpuMs: number;
}

interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  summary: ImportSummary;
}

export interface ImportOptions {
  file: string;
  projectId: string;
  /**
   * Ids of the project's issues when the import starts: a row whose issue is among them counts
   * as already imported without a request (a re-run reads the project once and writes nothing).
   */
  existingIds: ReadonlySet<string>;
  /** Clients to spread the rows over (row n goes to lane n mod lanes). */
  connections: readonly Connection[];
  signal: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  /** Writes queued at once, over all lanes (default 64); rows are queued half of it at a time. */
  window?: number;
}

interface Record {
  record: string[];
  info: { lines: number; bytes: number };
  raw: string;
}

export async function importIssues(
  options: ImportOptions,
): Promise<ImportSummary> {
  const { connections, signal } = options;
  const started = performance.now();
  const totalBytes = await stat(options.file).then(
    (file) => file.size,
    (error: unknown) => {
      throw new CliError(
        `cannot read ${options.file}: ${(error as Error).message}`,
        EXIT.usage,
      );
    },
  );
  const summary: ImportSummary = {
    rows: 0,
    written: 0,
    alreadyImported: 0,
    bad: [],
    elapsedMs: 0,
    cpuMs: 0,
  };
  const cpuAtStart = process.cpuUsage();
  const at = new Date();
  const context: RowContext = {
    projectId: options.projectId,
    at,
    defaultSortKey: (line) => timeSortKey(at.getTime() + line),
  };
  const parser = createReadStream(options.file).pipe(
    parse({
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ["\r\n", "\n"],
      // A malformed record (a stray quote) is reported as a bad row; the rest still count.
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error)
          summary.bad.push({
            line: Number((error as { lines?: number }).lines),
            column: "",
            message: `not valid CSV (${error.message})`,
          });
        return undefined;
      },
    }),
  );
  const inFlight = new Set<Promise<void>>();
  // Ctrl-C must not wait for an answer that may never come (the queue stays in the outbox).
  const abort = new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  const settleOne = () => Promise.race([...inFlight, abort]);
  const window = options.window ?? 64;
  const batchSize = Math.max(1, Math.floor(window / 2));
  const batch: {
    line: number;
    input: CreateIssueInput;
    connection: Connection;
  }[] = [];
  let fatal: Error | undefined;
  let bytesRead = 0;
  const report = () => options.onProgress?.({ bytesRead, totalBytes, summary });

  const track = (line: number, write: Promise<unknown>) => {
    const done = write.then(
      () => {
        summary.written++;
      },
      (error: unknown) => {
        if (isAlreadyDone(error)) summary.alreadyImported++;
        else if (
          error instanceof MutationRejectedError &&
          error.reason === "invalid_input"
        )
          // A rule only the server can check (e.g. the assignee is not a member).
          for (const [field, messages] of Object.entries(error.fieldErrors))
            summary.bad.push({
              line,
              column: columnOf(field),
              message: messages.join(", "),
            });
        else
          fatal ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    const tracked = done.finally(() => {
      inFlight.delete(tracked);
      report();
    });
    inFlight.add(tracked);
  };

  /** Queues the batch in one tick, then waits for room for the next one (or the end). */
  const submit = async (room: number) => {
    // Read through a call: TypeScript would keep `signal.aborted` narrowed across the awaits.
    const aborted = () => signal.aborted;
    // After Ctrl-C nothing more is queued: the next run picks the rest up from the file.
    if (aborted()) throw interrupted(summary);
    for (const { line, input, connection } of batch.splice(0))
      track(
        line,
        connection.settle(
          connection.sync.mutate(mutations.issues.create, input),
        ),
      );
    while (inFlight.size > room && fatal === undefined && !aborted())
      await settleOne();
    if (aborted()) throw interrupted(summary);
    if (fatal !== undefined) throw fatal;
  };

  try {
    let header: ReturnType<typeof readHeader> | undefined;
    for await (const chunk of parser) {
      const { record, info, raw } = chunk as Record;
      bytesRead = info.bytes;
      const line = startLine(info.lines, raw);
      if (!header) {
        try {
          header = readHeader(record);
        } catch (error) {
          throw new CliError(
            `${options.file}, line ${line}: ${(error as Error).message}`,
            EXIT.usage,
          );
        }
        continue;
      }
      summary.rows++;
      const row = parseRow(record, { line, header, context });
      if (!row.ok) {
        summary.bad.push(...row.problems);
        continue;
      }
      if (options.existingIds.has(row.input.id)) {
        summary.alreadyImported++;
        continue;
      }
      const connection = connections[summary.rows % connections.length];
      if (!connection) throw new Error("importIssues needs a connection");
      batch.push({ line, input: row.input, connection });
      if (batch.length >= batchSize) await submit(window - batchSize);
    }
    if (!header)
      throw new CliError(`${options.file} is empty: no header row`, EXIT.usage);
    await submit(0);
    bytesRead = totalBytes;
    summary.elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuAtStart);
    summary.cpuMs = (cpu.user + cpu.system) / 1000;
    report();
    summary.bad.sort((a, b) => a.line - b.line);
    return summary;
  } finally {
    parser.destroy();
  }
}

function interrupted(summary: ImportSummary): CliError {
  return new CliError(
    `interrupted after ${summary.written} new issues; run the same command again to finish (written rows are skipped)`,
    EXIT.interrupted,
  );
}
