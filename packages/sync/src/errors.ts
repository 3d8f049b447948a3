/**
 * Errors a caller of the client runtime can meet, under one root (`SyncError`), each with a
 * `name` to switch on. A write's promise rejects with one of these, never with a raw transport
 * error.
 */
import type { Txid } from "./types";

export class SyncError extends Error {
  override name = "SyncError";
}

/** The input failed the mutation's zod schema on the client: nothing was queued or sent. */
export class InvalidMutationInputError extends SyncError {
  override name = "InvalidMutationInputError";
  constructor(
    readonly mutation: string,
    readonly fieldErrors: Record<string, string[]>,
    options?: ErrorOptions,
  ) {
    super(
      `invalid input for ${mutation}: ${Object.entries(fieldErrors)
        .map(
          ([field, messages]) =>
            `${field || "(input)"}: ${messages.join(", ")}`,
        )
        .join("; ")}`,
      options,
    );
  }
}

/**
 * The server refused the write for good (a definitive answer, recorded in its mutation log):
 * the optimistic state is rolled back. `code` is the tRPC code, `reason` the api's finer reason
 * (`forbidden`, `not_found`, `invalid_input`, …), `fieldErrors` the messages per input field.
 */
export class MutationRejectedError extends SyncError {
  override name = "MutationRejectedError";
  readonly code: string;
  readonly reason: string | null;
  readonly fieldErrors: Record<string, string[]>;

  constructor(
    readonly mutation: string,
    refusal: {
      code: string;
      reason: string | null;
      message: string;
      fieldErrors?: Record<string, string[]>;
    },
    options?: ErrorOptions,
  ) {
    super(refusal.message, options);
    this.code = refusal.code;
    this.reason = refusal.reason;
    this.fieldErrors = refusal.fieldErrors ?? {};
  }
}

/**
 * The server committed the write (it answered with `txid`) but the change did not reach every
 * shape it touched within the time allowed. The optimistic state is dropped (the synced rows
 * are the truth); `seenTxids` lists the latest txids each waiting shape did see, to debug with.
 */
export class TxidTimeoutError extends SyncError {
  override name = "TxidTimeoutError";
  constructor(
    readonly mutation: string,
    readonly txid: Txid,
    readonly timeoutMs: number,
    readonly seenTxids: Record<string, Txid[]>,
  ) {
    super(
      `${mutation}: txid ${txid} did not arrive within ${timeoutMs} ms on ${Object.keys(seenTxids).join(", ")} (latest txids seen: ${JSON.stringify(seenTxids)})`,
    );
  }
}

/** The outbox storage failed (quota, a broken IndexedDB): the write could not be queued. */
export class OutboxError extends SyncError {
  override name = "OutboxError";
}

/** The client was closed while the write was still queued; the outbox keeps it for next time. */
export class ClientClosedError extends SyncError {
  override name = "ClientClosedError";
}
