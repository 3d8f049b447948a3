/** A WHERE clause that Postgres would also fail on for this row (division by zero, overflow, …). */
export class EvaluationError extends Error {
  override name = "EvaluationError";
}
