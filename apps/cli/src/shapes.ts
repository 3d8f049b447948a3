/**
 * Reads through the web app's shape proxy: a named shape (`projects`, `issues?project=P`, …)
 * whose table, where and columns the server decides, under the session's bearer token. Rows are
 * typed by @repo/schema's parser and camelCased, as the client runtime holds them.
 */
import type {
  ChangeMessage,
  Message,
  Row,
  ShapeStreamOptions,
} from "@electric-sql/client";
import {
  FetchError,
  isChangeMessage,
  isControlMessage,
  ShapeStream,
  snakeCamelMapper,
} from "@electric-sql/client";

import type { RowOf } from "@repo/schema";
import { SHAPE_PARSER } from "@repo/schema";

import type { Session } from "./config";
import { CliError, EXIT } from "./errors";

/** Named shapes of the proxy the CLI reads, and the table each serves. */
interface ShapeTables {
  projects: "projects";
  issues: "issues";
}
type ShapeName = keyof ShapeTables;

export interface ShapeRequest<TName extends ShapeName> {
  name: TName;
  params?: Record<string, string>;
}

type RowOfShape<TName extends ShapeName> = RowOf<ShapeTables[TName]>;

function streamOptions(
  session: Session,
  { name, params }: ShapeRequest<ShapeName>,
  signal: AbortSignal,
): ShapeStreamOptions<unknown> {
  return {
    url: `${session.url}/api/shapes/${name}`,
    // Plain strings: none of the protocol's reserved names (offset, handle, …) is used.
    ...(params && { params: params as ShapeStreamOptions<unknown>["params"] }),
    headers: { authorization: `Bearer ${session.token}` },
    columnMapper: snakeCamelMapper(),
    parser: SHAPE_PARSER,
    signal,
    // A CLI says the server is down rather than retrying for ever.
    backoffOptions: {
      initialDelay: 100,
      maxDelay: 1_000,
      multiplier: 2,
      maxRetries: 3,
    },
  };
}

/** A shape's failure as the user reads it. */
function shapeError(session: Session, error: unknown): CliError {
  if (error instanceof FetchError) {
    if (error.status === 401)
      return new CliError(
        `${session.url} does not accept the session any more: run \`login\` again`,
        EXIT.unauthorized,
      );
    const detail =
      (error.json as { message?: string } | undefined)?.message ?? error.text;
    return new CliError(
      `the server refused (${error.status}): ${detail ?? ""}`,
    );
  }
  return new CliError(
    `could not read from ${session.url}: ${error instanceof Error ? error.message : String(error)}`,
    EXIT.unreachable,
  );
}

export interface ShapeEvents<TRow> {
  /** Each change, in the order of the log; `initial` while the first snapshot loads. */
  onChange: (change: ChangeMessage<TRow & Row>, initial: boolean) => void;
  /** The stream is up to date (the first time: the snapshot is complete). */
  onUpToDate?: () => void;
}

/**
 * Follows a shape (`live`) or reads it to its first up-to-date. Resolves when a non-live read is
 * complete or `signal` aborts; rejects with a `CliError` if the server fails or refuses.
 */
export function followShape<TName extends ShapeName>(
  session: Session,
  request: ShapeRequest<TName>,
  {
    live,
    signal,
    events,
  }: {
    live: boolean;
    signal?: AbortSignal;
    events: ShapeEvents<RowOfShape<TName>>;
  },
): Promise<void> {
  const aborter = new AbortController();
  signal?.addEventListener("abort", () => aborter.abort(), { once: true });
  const stream = new ShapeStream<Row<unknown>>({
    ...streamOptions(session, request, aborter.signal),
    subscribe: live,
  });
  let initial = true;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown) => {
      // Aborting below calls finish again (the abort listener): the first outcome stands.
      if (done) return;
      done = true;
      if (error === undefined) resolve();
      else reject(shapeError(session, error));
      unsubscribe();
      aborter.abort();
    };
    aborter.signal.addEventListener("abort", () => finish(), { once: true });
    const unsubscribe = stream.subscribe(
      (messages: Message<Row<unknown>>[]) => {
        for (const message of messages) {
          if (isChangeMessage(message))
            events.onChange(
              message as unknown as ChangeMessage<RowOfShape<TName> & Row>,
              initial,
            );
          else if (
            isControlMessage(message) &&
            message.headers.control === "up-to-date"
          ) {
            initial = false;
            events.onUpToDate?.();
            if (!live) finish();
          }
        }
      },
      (error) => finish(error),
    );
  });
}

/** The rows of a shape once it is up to date. */
export async function readShape<TName extends ShapeName>(
  session: Session,
  request: ShapeRequest<TName>,
): Promise<RowOfShape<TName>[]> {
  const rows = new Map<string, RowOfShape<TName>>();
  await followShape(session, request, {
    live: false,
    events: {
      onChange: (change) => {
        const row = change.value as RowOfShape<TName>;
        if (change.headers.operation === "delete") rows.delete(row.id);
        else rows.set(row.id, { ...rows.get(row.id), ...row });
      },
    },
  });
  return [...rows.values()];
}
