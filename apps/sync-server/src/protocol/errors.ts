/**
 * Errors that become HTTP responses in Electric's formats
 * (`shapes/api/error.ex`, `plug/serve_shape_plug.ex`).
 */
class SyncServerError extends Error {
  override name = "SyncServerError";
}

/** 400 `{"message":"Invalid request","errors":{field:[...]}}`. */
export class InvalidRequestError extends SyncServerError {
  override name = "InvalidRequestError";
  constructor(
    readonly errors: Record<string, string[] | Record<string, string[]>>,
    options?: ErrorOptions,
  ) {
    super(
      Object.entries(errors)
        .map(
          ([field, messages]) =>
            `${field}: ${Array.isArray(messages) ? messages.join("; ") : JSON.stringify(messages)}`,
        )
        .join(", "),
      options,
    );
  }

  static of(field: string, message: string, cause?: unknown) {
    return new InvalidRequestError(
      { [field]: [message] },
      cause ? { cause } : undefined,
    );
  }

  body(): string {
    return JSON.stringify({ message: "Invalid request", errors: this.errors });
  }
}

/** 409 must-refetch: the handle no longer names the current log of this shape. */
export class MustRefetchError extends SyncServerError {
  override name = "MustRefetchError";
  constructor(readonly newHandle: string | undefined) {
    super("shape must be refetched");
  }
}

/** 503 with retry-after: the server cannot serve yet (e.g. replication not running). */
export class UnavailableError extends SyncServerError {
  override name = "UnavailableError";
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
