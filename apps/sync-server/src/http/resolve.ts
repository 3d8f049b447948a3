/**
 * From a validated request to the shape it reads: the definition (table allow-list, column
 * list), then the current shape of that definition, created on the first request; a handle that
 * is not the current one answers 409 with the current handle (SPEC.md "Request rules" 1–2).
 */
import type { ShapeRequest } from "../protocol/request";
import type { ShapeDefinition } from "../shapes/definition";
import type { Shape } from "../shapes/shape";
import type { ServerContext } from "./context";
import {
  InvalidRequestError,
  MustRefetchError,
  UnavailableError,
} from "../protocol/errors";
import { BEFORE_ALL, compareOffsets } from "../protocol/offset";
import {
  parseColumnList,
  parseTableName,
  tableNotFoundError,
} from "../shapes/identifiers";
import { isCausedByRequest, isUndefinedTable } from "../shapes/sqlstate";

/** The definition a request names, with every problem of `table` and `columns` reported. */
export function toDefinition(
  server: ServerContext,
  request: ShapeRequest,
): ShapeDefinition {
  const errors: Record<string, string[]> = {};
  let table: ShapeDefinition["table"] | undefined;
  let columns: string[] | undefined;
  try {
    table = parseTableName(request.table);
    if (server.isAllowedTable && !server.isAllowedTable(table))
      throw InvalidRequestError.of(
        "table",
        `Table "${table.schema}"."${table.name}" is not one of the tables this server syncs (ELECTRIC_ALLOWED_TABLES)`,
      );
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    Object.assign(errors, error.errors);
  }
  try {
    columns =
      request.columns === undefined
        ? undefined
        : parseColumnList(request.columns);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    Object.assign(errors, error.errors);
  }
  if (!table || Object.keys(errors).length > 0)
    throw new InvalidRequestError(errors);
  return {
    table,
    where: request.where,
    params: request.params,
    columns,
    replica: request.replica,
    log: request.log,
  };
}

export interface ShapeToResolve {
  readonly server: ServerContext;
  readonly shapeRequest: ShapeRequest;
  readonly definition: ShapeDefinition;
}

/**
 * The shape a request reads, or 409 when its handle is not the current one. With
 * `waitForEntries`, a non-live read from a snapshot offset (`-1`, `0_<k>`) resolves as soon as
 * the running snapshot has written past it (its next chunk is started, or it ended): that chunk
 * is streamed while it is written. Every other read waits for the whole snapshot.
 */
export async function resolveShape(
  { server, shapeRequest, definition }: ShapeToResolve,
  waitForEntries = false,
): Promise<Shape> {
  const isStart =
    shapeRequest.offset === "now" ||
    compareOffsets(shapeRequest.offset, BEFORE_ALL) === 0;
  if (!isStart) {
    const byHandle = shapeRequest.handle
      ? server.shapes.getByHandle(shapeRequest.handle)
      : undefined;
    const current = server.shapes.find(definition);
    if (!byHandle || byHandle !== current || byHandle.state === "invalid") {
      throw new MustRefetchError(await currentHandle(server, definition));
    }
  }
  const shape = await getOrCreateShape(server, definition);
  const offset = shapeRequest.offset;
  if (
    offset !== "now" &&
    !shapeRequest.live &&
    waitForEntries &&
    offset.tx <= 0n &&
    offset.op !== Infinity
  )
    await shape.waitForEntries(offset);
  else await shape.ready;
  if (shape.state === "invalid") {
    const failure = shape.snapshotError;
    // Data exceptions and bad references come from the query, not the database's health: the
    // client must not retry forever.
    if (isCausedByRequest(failure))
      throw InvalidRequestError.of(
        "where",
        `the shape query failed: ${failure.message}`,
      );
    if (shape.invalidReason?.startsWith("snapshot failed"))
      throw new UnavailableError(
        `Shape snapshot failed: ${shape.invalidReason}`,
        1,
      );
    throw new MustRefetchError(await currentHandle(server, definition));
  }
  return shape;
}

/**
 * The current shape of `definition`. A table dropped while its shape was being created (found,
 * then gone when it was published: SQLSTATE 42P01) is the request's problem, answered as a
 * missing table is, not a server failure.
 */
async function getOrCreateShape(
  server: ServerContext,
  definition: ShapeDefinition,
): Promise<Shape> {
  try {
    return await server.shapes.getOrCreate(definition);
  } catch (error) {
    if (!isUndefinedTable(error)) throw error;
    const { schema, name } = definition.table;
    server.logger.info("table dropped while its shape was created", {
      table: `${schema}.${name}`,
    });
    throw tableNotFoundError(definition.table);
  }
}

/** Handle for a 409: the current (possibly new) shape of this definition, if it can exist. */
export async function currentHandle(
  server: ServerContext,
  definition: ShapeDefinition,
): Promise<string | undefined> {
  try {
    return (await getOrCreateShape(server, definition)).handle;
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined;
    throw error;
  }
}
