/**
 * How the runtime reaches the API, and how it tells a final answer from a transient failure.
 * The runtime never imports tRPC: any function that sends `{ clientId, mutationId, args }` to
 * the named procedure will do; `trpcTransport` adapts a `@trpc/client` proxy.
 */
import type { MutationResult } from "./types";

export interface MutationRequest {
  /** Procedure path, e.g. `issues.create`. */
  name: string;
  clientId: string;
  mutationId: number;
  args: unknown;
  /** Aborted when the runtime gives up waiting for the answer (it will send again). */
  signal?: AbortSignal;
}

export type MutationTransport = (
  request: MutationRequest,
) => Promise<MutationResult>;

/** What to do after a failed send. */
export type SendFailure =
  | {
      kind: "rejected";
      code: string;
      reason: string | null;
      message: string;
      fieldErrors: Record<string, string[]>;
    }
  /** Try again later; `offline` when the API could not be reached at all. */
  | { kind: "transient"; offline: boolean; unauthorized: boolean };

interface ErrorShape {
  message?: unknown;
  data?: {
    code?: unknown;
    httpStatus?: unknown;
    reason?: unknown;
    retryable?: unknown;
    zodError?: { fieldErrors?: unknown } | null;
  } | null;
}

/**
 * Classifies an error thrown by a tRPC client call (duck-typed, so any transport that throws the
 * api's error `data` works). No `data` means no answer from the server (network, CORS, a proxy's
 * HTML page): transient. The api marks retryable answers (`write_conflict`, internal errors);
 * 5xx, 408 and 429 are transient too; UNAUTHORIZED waits for a new session rather than dropping
 * the user's writes. Everything else is the server's final word.
 */
export function classifyFailure(error: unknown): SendFailure {
  const shape = (
    typeof error === "object" && error !== null ? error : {}
  ) as ErrorShape;
  const data = shape.data;
  if (!data || typeof data.code !== "string")
    return { kind: "transient", offline: true, unauthorized: false };
  const status = typeof data.httpStatus === "number" ? data.httpStatus : 0;
  if (data.code === "UNAUTHORIZED")
    return { kind: "transient", offline: false, unauthorized: true };
  if (
    data.retryable === true ||
    status >= 500 ||
    status === 408 ||
    status === 429
  )
    return { kind: "transient", offline: false, unauthorized: false };
  const fieldErrors = data.zodError?.fieldErrors;
  return {
    kind: "rejected",
    code: data.code,
    reason: typeof data.reason === "string" ? data.reason : null,
    message: typeof shape.message === "string" ? shape.message : data.code,
    fieldErrors: isFieldErrors(fieldErrors) ? fieldErrors : {},
  };
}

function isFieldErrors(value: unknown): value is Record<string, string[]> {
  return typeof value === "object" && value !== null;
}

interface MutateProcedure {
  mutate: (
    input: { clientId: string; mutationId: number; args: never },
    options: { signal?: AbortSignal },
  ) => Promise<MutationResult>;
}

/**
 * A transport over a `@trpc/client` proxy (`createTRPCClient<AppRouter>(…)`): `issues.create`
 * becomes `client.issues.create.mutate(envelope)`.
 *
 * @example
 * const client = createSyncClient({ transport: trpcTransport(trpc), … });
 */
export function trpcTransport(client: object): MutationTransport {
  return ({ name, clientId, mutationId, args, signal }) => {
    let target: unknown = client;
    for (const part of name.split("."))
      target = (target as Record<string, unknown>)[part];
    return (target as MutateProcedure).mutate(
      { clientId, mutationId, args: args as never },
      { signal },
    );
  };
}
