/**
 * How the WHERE analysis types expressions, the way Postgres types them: an untyped literal or
 * `$n` takes the type of what it meets (`typed`, `unify`), and a `$n` keeps one type across its
 * uses; mixed numbers resolve int → numeric → float8; operands of one operator must be of one
 * family; enums and arrays compare for equality only; casts follow Postgres' cast rules where
 * the evaluator can follow them exactly (SPEC.md "WHERE evaluation rules").
 */
import type { CompareOp, Expr } from "./ast";
import type { SqlType } from "./types";
import {
  describeType,
  FLOAT8,
  NUMERIC,
  parseValue,
  TEXT,
  ValueSyntaxError,
} from "./types";
import { WhereClauseError } from "./where-error";

/** Typing that depends on the clause so far: the types its `$n` took. */
export class TypeRules {
  /** The type inferred for each `$n` (by index); `unknown` until something gives it one. */
  constructor(readonly params: Map<number, SqlType>) {}

  /** Gives `expr` the type `target` if it is an untyped literal/param, else checks it. */
  typed(expr: Expr, target: SqlType, context = "expression"): Expr {
    if (expr.type.family === "unknown") return this.coerce(expr, target);
    if (target.family === "bool" && expr.type.family !== "bool")
      throw new WhereClauseError(
        `${context} must be type boolean, not type ${describeType(expr.type)}`,
      );
    return expr;
  }

  coerce(expr: Expr, target: SqlType): Expr {
    if (expr.kind === "const") {
      if (expr.value === null) return { ...expr, type: target };
      try {
        return {
          kind: "const",
          value: parseValue(String(expr.value), target),
          type: target,
        };
      } catch (error) {
        if (error instanceof ValueSyntaxError)
          throw new WhereClauseError(error.message);
        throw error;
      }
    }
    if (expr.kind === "param") {
      const known = this.params.get(expr.index);
      if (known && known.family !== "unknown" && !sameType(known, target))
        throw new WhereClauseError(
          `inconsistent types deduced for parameter $${expr.index}: ${describeType(known)} versus ${describeType(target)}`,
        );
      this.params.set(expr.index, target);
      return { ...expr, type: target };
    }
    return expr;
  }

  /** Postgres' rule for binary operators: an untyped side takes the other side's type. */
  unify(left: Expr, right: Expr): [Expr, Expr] {
    if (left.type.family === "unknown" && right.type.family === "unknown") {
      return [this.typed(left, TEXT), this.typed(right, TEXT)];
    }
    if (left.type.family === "unknown") left = this.typed(left, right.type);
    if (right.type.family === "unknown") right = this.typed(right, left.type);
    if (left.type.dims !== right.type.dims)
      throw new WhereClauseError(
        `operator does not exist: ${describeType(left.type)} and ${describeType(right.type)}`,
      );
    if (isNumeric(left.type) && isNumeric(right.type)) {
      const wider = widerNumeric(left.type, right.type);
      return [left, right].map((expr) =>
        expr.type.family === wider.family &&
        (wider.family !== "float" || expr.type.name === wider.name)
          ? expr
          : {
              kind: "cast",
              arg: expr,
              type: { ...wider, dims: expr.type.dims },
              toText: false,
            },
      ) as [Expr, Expr];
    }
    requireSameFamily(left.type, right.type, "comparison");
    return [left, right];
  }
}

export function asText(expr: Expr): Expr {
  if (expr.type.family === "text") return expr;
  return { kind: "cast", arg: expr, type: TEXT, toText: true };
}

export function requireSameFamily(a: SqlType, b: SqlType, what: string): void {
  const compatible =
    a.family === b.family && (a.family !== "enum" || a.name === b.name);
  if (!compatible && !(isNumeric(a) && isNumeric(b)))
    throw new WhereClauseError(
      `operator does not exist for ${what}: ${describeType(a)} and ${describeType(b)}`,
    );
}

export function requireComparable(type: SqlType, op: CompareOp): void {
  if (type.family === "enum" && op !== "=" && op !== "<>")
    throw new WhereClauseError(
      `ordering comparisons on enum type ${type.name} are not supported; cast it to text`,
    );
  if (type.dims > 0 && op !== "=" && op !== "<>")
    throw new WhereClauseError(
      "ordering comparisons on arrays are not supported",
    );
}

export function isNumeric(type: SqlType): boolean {
  return (
    type.family === "int" ||
    type.family === "float" ||
    type.family === "numeric"
  );
}

/** The common type Postgres resolves mixed numeric operands to (int → numeric → float8). */
export function widerNumeric(a: SqlType, b: SqlType): SqlType {
  if (a.family === "float" || b.family === "float")
    return a.name === "float4" && b.name === "float4" ? a : FLOAT8;
  if (a.family === "numeric" || b.family === "numeric") return NUMERIC;
  const rank = (type: SqlType) => ["int2", "int4", "int8"].indexOf(type.name);
  return rank(a) >= rank(b) ? a : b;
}

export function sameType(a: SqlType, b: SqlType): boolean {
  return a.family === b.family && a.name === b.name && a.dims === b.dims;
}

export function canCast(from: SqlType, to: SqlType): boolean {
  if (to.family === "text") return from.dims === 0 || to.dims > 0;
  if (from.dims !== to.dims) return false;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (from.family === "text") return false;
  if (
    from.family === "date" &&
    (to.family === "timestamp" || to.family === "timestamptz")
  )
    return false;
  if (from.family === "int" && to.family === "bool") return false;
  return from.family === to.family;
}
