/**
 * Errors of the write path that callers map to responses (the tRPC layer in @repo/api). Every
 * class sets `name`; the root lets callers tell ours from driver errors.
 */
export class WritePathError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WritePathError";
  }
}

/** A client sent a mutation id below one the server already decided for that client. */
export class MutationOrderError extends WritePathError {
  constructor(
    readonly clientId: string,
    readonly mutationId: number,
    readonly latestMutationId: number,
  ) {
    super(
      `mutation ${mutationId} of client ${clientId} arrived after mutation ${latestMutationId}: ` +
        `a client sends its mutations in id order`,
    );
    this.name = "MutationOrderError";
  }
}

/** The same (client, mutation id) was used before for another mutation, or other arguments. */
export class MutationIdReusedError extends WritePathError {
  constructor(
    readonly mutationId: number,
    readonly recordedName: string,
    readonly requestedName: string,
  ) {
    super(
      recordedName === requestedName
        ? `mutation id ${mutationId} was already used for ${recordedName} with other arguments`
        : `mutation id ${mutationId} was already used for ${recordedName}, not ${requestedName}`,
    );
    this.name = "MutationIdReusedError";
  }
}

/** The client id has mutations of another user: client ids are per user. */
export class ClientIdOwnerError extends WritePathError {
  constructor(readonly clientId: string) {
    super(`client id ${clientId} belongs to another user`);
    this.name = "ClientIdOwnerError";
  }
}

/** A retried mutation that the server rejected the first time: the same rejection again. */
export class RecordedRejectionError extends WritePathError {
  constructor(
    /** The error code recorded with the rejection (`FORBIDDEN`, `CONFLICT`, ...). */
    readonly outcome: string,
    message: string,
    /** The caller's finer reason, if it recorded one (e.g. `parent_missing`). */
    readonly reason: string | null = null,
  ) {
    super(message);
    this.name = "RecordedRejectionError";
  }
}

/**
 * The SQLSTATE of a Postgres error, whether it comes straight from `pg` (`code`) or wrapped by
 * Prisma's driver adapter (`meta.driverAdapterError.cause.originalCode`); follows `cause`.
 */
export function sqlStateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; depth < 5; depth++) {
    if (typeof current !== "object" || current === null) return undefined;
    // Prisma's own codes (`P2010`) look like SQLSTATEs; Prisma errors carry `clientVersion`.
    const code: unknown = Reflect.get(current, "code");
    if (
      typeof code === "string" &&
      /^[0-9A-Z]{5}$/.test(code) &&
      !Reflect.has(current, "clientVersion")
    )
      return code;
    const meta: unknown = Reflect.get(current, "meta");
    const adapterError: unknown =
      typeof meta === "object" && meta !== null
        ? Reflect.get(meta, "driverAdapterError")
        : undefined;
    const adapterCause: unknown =
      typeof adapterError === "object" && adapterError !== null
        ? Reflect.get(adapterError, "cause")
        : undefined;
    const original: unknown =
      typeof adapterCause === "object" && adapterCause !== null
        ? Reflect.get(adapterCause, "originalCode")
        : undefined;
    if (typeof original === "string") return original;
    current = Reflect.get(current, "cause");
  }
  return undefined;
}

/** Name of the constraint a Postgres error is about, when the driver reports it. */
export function constraintOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; depth < 5; depth++) {
    if (typeof current !== "object" || current === null) return undefined;
    const direct: unknown = Reflect.get(current, "constraint");
    if (typeof direct === "string") return direct;
    const meta: unknown = Reflect.get(current, "meta");
    const cause: unknown =
      typeof meta === "object" && meta !== null
        ? Reflect.get(
            (Reflect.get(meta, "driverAdapterError") as object | undefined) ??
              {},
            "cause",
          )
        : undefined;
    const constraint: unknown =
      typeof cause === "object" && cause !== null
        ? Reflect.get(cause, "constraint")
        : undefined;
    if (typeof constraint === "object" && constraint !== null) {
      const index: unknown = Reflect.get(constraint, "index");
      if (typeof index === "string") return index;
    }
    current = Reflect.get(current, "cause");
  }
  return undefined;
}

/** Serialization failure or deadlock: the transaction did nothing and may simply run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === "40001" || state === "40P01";
}
