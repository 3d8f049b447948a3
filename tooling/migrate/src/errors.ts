/** A migration that failed to apply. Its transaction was rolled back: the database is unchanged. */
export class MigrationFailedError extends Error {
  override readonly name = "MigrationFailedError";
  constructor(
    readonly migration: string,
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Migration ${migration} failed and was rolled back (${file}): ${detail}`,
      options,
    );
  }
}

/** The history table says something that needs a human (e.g. a failed `prisma migrate deploy`). */
export class MigrationHistoryError extends Error {
  override readonly name = "MigrationHistoryError";
}
