/**
 * What a failed call tells the client, and how server-side failures become it.
 *
 * Every error response carries `data: AppErrorData` (see the errorFormatter in trpc.ts): the tRPC
 * code, a machine-readable `reason`, whether retrying the same call can succeed, and field-level
 * messages for forms. Messages never contain SQL: unknown failures say "Internal server error"
 * and are logged on the server only.
 */
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

import {
  ClientIdOwnerError,
  isRetryableTransactionError,
  MutationIdReusedError,
  MutationOrderError,
  RecordedRejectionError,
  sqlStateOf,
} from "@repo/db";

/** Why a call failed, finer than its tRPC code. */
export type ErrorReason =
  /** input failed validation (zod, or a rule that needs the database, e.g. assignee) */
  | "invalid_input"
  /** no session */
  | "unauthenticated"
  /** the user's role does not allow this */
  | "forbidden"
  /** the row does not exist or the user may not see it */
  | "not_found"
  /** a row the write refers to is gone (foreign key, SQLSTATE 23503) */
  | "parent_missing"
  /** a row with this id or key exists already (unique, SQLSTATE 23505) */
  | "duplicate"
  /** the write conflicts with the row's state (e.g. removing a project's owner) */
  | "invalid_state"
  /** the client sent a mutation id below one it sent before */
  | "out_of_order"
  /** the mutation id was used before for another mutation */
  | "mutation_id_reused"
  /** the client id belongs to another user */
  | "client_mismatch"
  /** serialization failures/deadlocks persisted through the server's retries */
  | "write_conflict"
  | "internal";

/** Field-level messages: `{ fieldErrors: { title: ["Too long"] }, formErrors: [] }`. */
export interface FieldErrors {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
}

/** `error.data` of every error response (with tRPC's `code`, `httpStatus`, `path`). */
export interface AppErrorData {
  reason: ErrorReason | null;
  /** true when sending the same call again may succeed (transient failure). */
  retryable: boolean;
  /** Field-level messages of BAD_REQUEST (paths relative to the mutation's input). */
  zodError: FieldErrors | null;
}

/** A deliberate refusal by a handler: becomes `code` + `reason`, and is recorded in the log. */
class MutationRejectedError extends Error {
  constructor(
    readonly code: TRPC_ERROR_CODE_KEY,
    readonly reason: ErrorReason,
    message: string,
    readonly fieldErrors: FieldErrors | null = null,
  ) {
    super(message);
    this.name = "MutationRejectedError";
  }
}

export const forbidden = (message: string) =>
  new MutationRejectedError("FORBIDDEN", "forbidden", message);
export const notFound = (message: string) =>
  new MutationRejectedError("NOT_FOUND", "not_found", message);
export const invalidState = (message: string) =>
  new MutationRejectedError("CONFLICT", "invalid_state", message);
/** A field that passed zod but fails a rule that needs the database. */
export const invalidField = (field: string, message: string) =>
  new MutationRejectedError("BAD_REQUEST", "invalid_input", message, {
    formErrors: [],
    fieldErrors: { [field]: [message] },
  });

/** The cause a TRPCError carries so the errorFormatter can fill `AppErrorData`. */
class ErrorDetails extends Error {
  constructor(
    readonly reason: ErrorReason,
    readonly retryable: boolean,
    readonly fieldErrors: FieldErrors | null,
    options?: ErrorOptions,
  ) {
    super(reason, options);
    this.name = "ErrorDetails";
  }
}

const withDetails = (
  code: TRPC_ERROR_CODE_KEY,
  message: string,
  reason: ErrorReason,
  options: {
    retryable?: boolean;
    fieldErrors?: FieldErrors | null;
    cause?: unknown;
  } = {},
) =>
  new TRPCError({
    code,
    message,
    cause: new ErrorDetails(
      reason,
      options.retryable ?? false,
      options.fieldErrors ?? null,
      { cause: options.cause },
    ),
  });

/**
 * A definitive rejection to record in the mutation log (a retry then gets it back unchanged),
 * or null for failures a retry may not repeat.
 */
export function classifyRejection(error: unknown): {
  outcome: TRPC_ERROR_CODE_KEY;
  message: string;
  reason: ErrorReason;
} | null {
  if (error instanceof MutationRejectedError)
    return {
      outcome: error.code,
      message: error.message,
      reason: error.reason,
    };
  switch (sqlStateOf(error)) {
    case "23503":
      return {
        outcome: "CONFLICT",
        message: "A row this change refers to does not exist (any more)",
        reason: "parent_missing",
      };
    case "23505":
      return {
        outcome: "CONFLICT",
        message: "A row with this id or key exists already",
        reason: "duplicate",
      };
    default:
      return null;
  }
}

/** Maps anything a mutation throws to the TRPCError the client receives. */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof MutationRejectedError)
    return withDetails(error.code, error.message, error.reason, {
      fieldErrors: error.fieldErrors,
    });
  if (error instanceof RecordedRejectionError) {
    const code = asCode(error.outcome);
    return withDetails(
      code,
      error.message,
      (error.reason as ErrorReason | null) ??
        DEFAULT_REASONS[code] ??
        "internal",
    );
  }
  if (error instanceof MutationOrderError)
    return withDetails("CONFLICT", error.message, "out_of_order");
  if (error instanceof MutationIdReusedError)
    return withDetails("CONFLICT", error.message, "mutation_id_reused");
  if (error instanceof ClientIdOwnerError)
    return withDetails(
      "FORBIDDEN",
      "This client id belongs to another user: use one client id per user",
      "client_mismatch",
    );
  if (isRetryableTransactionError(error))
    return withDetails(
      "CONFLICT",
      "The change collided with concurrent changes; try again",
      "write_conflict",
      { retryable: true, cause: error },
    );
  const rejection = classifyRejection(error);
  if (rejection)
    return withDetails(rejection.outcome, rejection.message, rejection.reason, {
      cause: error,
    });
  return withDetails(
    "INTERNAL_SERVER_ERROR",
    "Internal server error",
    "internal",
    { retryable: true, cause: error },
  );
}

/** Reason of a recorded rejection that has none (rows recorded by other writers). */
const DEFAULT_REASONS: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorReason>> = {
  BAD_REQUEST: "invalid_input",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not_found",
  CONFLICT: "invalid_state",
};

const CODES = new Set<string>([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "UNPROCESSABLE_CONTENT",
  "INTERNAL_SERVER_ERROR",
]);
const asCode = (outcome: string): TRPC_ERROR_CODE_KEY =>
  CODES.has(outcome)
    ? (outcome as TRPC_ERROR_CODE_KEY)
    : "INTERNAL_SERVER_ERROR";

/**
 * `AppErrorData` of an error, for the errorFormatter. zod issues are keyed by their dotted path
 * inside the mutation's input (`args.title` → `title`), so forms can show them per field.
 */
export function errorData(error: TRPCError): AppErrorData {
  const cause = error.cause;
  if (cause instanceof z.ZodError)
    return {
      reason: "invalid_input",
      retryable: false,
      zodError: fieldErrorsOf(cause),
    };
  if (cause instanceof ErrorDetails)
    return {
      reason: cause.reason,
      retryable: cause.retryable,
      zodError: cause.fieldErrors,
    };
  if (error.code === "UNAUTHORIZED")
    return { reason: "unauthenticated", retryable: false, zodError: null };
  if (error.code === "INTERNAL_SERVER_ERROR")
    return { reason: "internal", retryable: true, zodError: null };
  return { reason: null, retryable: false, zodError: null };
}

function fieldErrorsOf(error: z.ZodError): FieldErrors {
  const result: FieldErrors = { formErrors: [], fieldErrors: {} };
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (path[0] === "args") path.shift();
    if (path.length === 0) {
      result.formErrors.push(issue.message);
      continue;
    }
    const key = path.join(".");
    (result.fieldErrors[key] ??= []).push(issue.message);
  }
  return result;
}
