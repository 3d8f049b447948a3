/**
 * Evaluates an analysed WHERE expression against one row with SQL's three-valued logic
 * (null = unknown). Rows arrive as Postgres text output; each referenced column is parsed once
 * per evaluation.
 */
import type { CompareOp, Expr } from "./ast";
import type { SqlType, Value } from "./types";
import { Decimal, DecimalError } from "./decimal";
import { EvaluationError } from "./evaluation-error";
import { Interval } from "./interval";
import { likeMatch } from "./like";
import { pgText } from "./pg-text";
import { INT_RANGES, parseValue } from "./types";

export type RowText = Readonly<Record<string, string | null>>;

/** True when the row satisfies the expression (false for false and for unknown). */
export function matches(
  expr: Expr,
  row: RowText,
  params: readonly Value[],
): boolean {
  const cache = new Map<string, Value>();
  return evaluate(expr, { row, params, cache }) === true;
}

interface Scope {
  row: RowText;
  params: readonly Value[];
  cache: Map<string, Value>;
}

function evaluate(expr: Expr, scope: Scope): Value {
  switch (expr.kind) {
    case "column": {
      if (scope.cache.has(expr.name)) return scope.cache.get(expr.name) ?? null;
      const value = parseValue(scope.row[expr.name] ?? null, expr.type);
      scope.cache.set(expr.name, value);
      return value;
    }
    case "const":
      return expr.value;
    case "param":
      return scope.params[expr.index - 1] ?? null;
    case "cast":
      return castValue(evaluate(expr.arg, scope), expr.arg, expr.type, scope);
    case "and": {
      let unknown = false;
      for (const arg of expr.args) {
        const value = evaluate(arg, scope);
        if (value === false) return false;
        if (value === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case "or": {
      let unknown = false;
      for (const arg of expr.args) {
        const value = evaluate(arg, scope);
        if (value === true) return true;
        if (value === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case "not": {
      const value = evaluate(expr.arg, scope);
      return value === null ? null : !value;
    }
    case "isNull": {
      const value = evaluate(expr.arg, scope);
      return (value === null) !== expr.negated;
    }
    case "boolTest": {
      const value = evaluate(expr.arg, scope);
      const result =
        expr.test === "unknown"
          ? value === null
          : value === (expr.test === "true");
      return result !== expr.negated;
    }
    case "compare":
      return compareWith(
        expr.op,
        evaluate(expr.left, scope),
        evaluate(expr.right, scope),
      );
    case "distinct": {
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      const same =
        left === null || right === null
          ? left === right
          : compare(left, right) === 0;
      return expr.negated ? same : !same;
    }
    case "arith": {
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      if (left === null || right === null) return null;
      return arithmetic(expr.op, left, right, expr.type);
    }
    case "negate": {
      const value = evaluate(expr.arg, scope);
      if (value === null) return null;
      if (value instanceof Decimal) return value.negate();
      return typeof value === "bigint"
        ? checkedInt(-value, expr.type)
        : -Number(value);
    }
    case "concat": {
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      if (left === null || right === null) return null;
      return String(left) + String(right);
    }
    case "like": {
      const value = evaluate(expr.arg, scope);
      const pattern = evaluate(expr.pattern, scope);
      if (value === null || pattern === null) return null;
      // ILIKE compares lower() of both sides, as Postgres does for UTF-8 databases.
      const matched = expr.caseInsensitive
        ? likeMatch(String(value).toLowerCase(), String(pattern).toLowerCase())
        : likeMatch(String(value), String(pattern));
      return matched !== expr.negated;
    }
    case "in": {
      const value = evaluate(expr.arg, scope);
      if (value === null) return null;
      let unknown = false;
      for (const item of expr.list) {
        const candidate = evaluate(item, scope);
        if (candidate === null) unknown = true;
        else if (compare(value, candidate) === 0) return !expr.negated;
      }
      return unknown ? null : expr.negated;
    }
    case "quantified": {
      const left = evaluate(expr.left, scope);
      const array = evaluate(expr.array, scope);
      if (array === null) return null;
      const items = flatten(array);
      if (items.length === 0) return expr.quantifier === "all";
      if (left === null) return null;
      let unknown = false;
      for (const item of items) {
        const result = compareWith(expr.op, left, item);
        if (result === null) unknown = true;
        else if (expr.quantifier === "any" && result) return true;
        else if (expr.quantifier === "all" && !result) return false;
      }
      if (unknown) return null;
      return expr.quantifier === "all";
    }
    case "arrayOp": {
      const left = evaluate(expr.left, scope);
      const right = evaluate(expr.right, scope);
      if (left === null || right === null) return null;
      const a = flatten(left);
      const b = flatten(right);
      // Postgres' array containment ignores NULL elements' equality (NULL never matches).
      const has = (list: Value[], item: Value) =>
        item !== null && list.some((x) => x !== null && compare(x, item) === 0);
      switch (expr.op) {
        case "@>":
          return b.every((item) => has(a, item));
        case "<@":
          return a.every((item) => has(b, item));
        case "&&":
          return a.some((item) => has(b, item));
      }
      return null;
    }
    case "call":
      return call(expr, scope);
  }
}

function call(expr: Extract<Expr, { kind: "call" }>, scope: Scope): Value {
  const values = expr.args.map((arg) => evaluate(arg, scope));
  switch (expr.name) {
    case "lower":
    case "upper": {
      const [value] = values;
      if (value === null || value === undefined) return null;
      return expr.name === "lower"
        ? String(value).toLowerCase()
        : String(value).toUpperCase();
    }
    case "coalesce":
      return values.find((value) => value !== null) ?? null;
    case "greatest":
    case "least": {
      const present = values.filter((value) => value !== null);
      if (present.length === 0) return null;
      return present.reduce((best, value) => {
        const order = compare(value, best);
        return (expr.name === "greatest" ? order > 0 : order < 0)
          ? value
          : best;
      });
    }
  }
}

function flatten(value: Value): Value[] {
  return Array.isArray(value)
    ? value.flatMap((item) => (Array.isArray(item) ? flatten(item) : [item]))
    : [value];
}

function compareWith(op: CompareOp, left: Value, right: Value): boolean | null {
  if (left === null || right === null) return null;
  const order = compare(left, right);
  switch (op) {
    case "=":
      return order === 0;
    case "<>":
      return order !== 0;
    case "<":
      return order < 0;
    case "<=":
      return order <= 0;
    case ">":
      return order > 0;
    case ">=":
      return order >= 0;
  }
}

/**
 * Total order used by comparisons. Text compares by code point, which is what the snapshot
 * query does too (it compiles text comparisons with COLLATE "C").
 */
function compare(left: Value, right: Value): number {
  if (Array.isArray(left) || Array.isArray(right)) {
    const a = Array.isArray(left) ? left : [left];
    const b = Array.isArray(right) ? right : [right];
    for (let index = 0; index < Math.min(a.length, b.length); index++) {
      const x = a[index] ?? null;
      const y = b[index] ?? null;
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
        continue;
      }
      const order = compare(x, y);
      if (order !== 0) return order;
    }
    return a.length - b.length;
  }
  if (left === null || right === null)
    return left === right ? 0 : left === null ? 1 : -1;
  if (typeof left === "bigint" && typeof right === "bigint")
    return left < right ? -1 : left > right ? 1 : 0;
  if (typeof left === "string" && typeof right === "string")
    return left < right ? -1 : left > right ? 1 : 0;
  if (typeof left === "boolean" && typeof right === "boolean")
    return Number(left) - Number(right);
  if (left instanceof Interval && right instanceof Interval)
    return left.compare(right);
  if (left instanceof Decimal || right instanceof Decimal) {
    // Operands are unified before evaluation; an integer next to a numeric is still exact.
    if (typeof left !== "number" && typeof right !== "number")
      return asDecimal(left).compare(asDecimal(right));
  }
  const a = toFloat(left);
  const b = toFloat(right);
  // Postgres sorts NaN above every other number and treats NaN = NaN.
  if (Number.isNaN(a) || Number.isNaN(b))
    return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function arithmetic(
  op: string,
  left: Value,
  right: Value,
  type: SqlType,
): Value {
  if (left instanceof Decimal || right instanceof Decimal) {
    const a = asDecimal(left);
    const b = asDecimal(right);
    try {
      switch (op) {
        case "+":
          return a.add(b);
        case "-":
          return a.subtract(b);
        case "*":
          return a.multiply(b);
        case "/":
          return a.divide(b);
        default:
          return a.modulo(b);
      }
    } catch (error) {
      if (error instanceof DecimalError)
        throw new EvaluationError(error.message);
      throw error;
    }
  }
  if (typeof left === "bigint" && typeof right === "bigint") {
    switch (op) {
      case "+":
        return checkedInt(left + right, type);
      case "-":
        return checkedInt(left - right, type);
      case "*":
        return checkedInt(left * right, type);
      case "/":
        if (right === 0n) throw new EvaluationError("division by zero");
        // BigInt division truncates toward zero, like Postgres.
        return checkedInt(left / right, type);
      case "%":
        if (right === 0n) throw new EvaluationError("division by zero");
        return left % right;
    }
  }
  const a = toFloat(left);
  const b = toFloat(right);
  let result: number;
  switch (op) {
    case "+":
      result = a + b;
      break;
    case "-":
      result = a - b;
      break;
    case "*":
      result = a * b;
      break;
    case "/":
      // float8_div: NaN / 0 is NaN, not an error.
      if (b === 0 && !Number.isNaN(a))
        throw new EvaluationError("division by zero");
      result = a / b;
      break;
    default:
      throw new EvaluationError(
        `operator does not exist: ${type.name} % ${type.name}`,
      );
  }
  return checkedFloat(
    op,
    a,
    b,
    type.name === "float4" ? Math.fround(result) : result,
  );
}

/**
 * float8/float4 arithmetic raises where Postgres' float.h does: an infinite result from finite
 * operands, or a zero product or quotient of non-zero, finite operands.
 */
function checkedFloat(
  op: string,
  a: number,
  b: number,
  result: number,
): number {
  const infinite = (value: number) => Math.abs(value) === Infinity;
  if (infinite(result) && !infinite(a) && !infinite(b))
    throw new EvaluationError("value out of range: overflow");
  if (
    result === 0 &&
    (op === "*" || op === "/") &&
    a !== 0 &&
    b !== 0 &&
    !infinite(b)
  )
    throw new EvaluationError("value out of range: underflow");
  return result;
}

/** Integer results overflow like Postgres' (an error), never silently widen. */
function checkedInt(value: bigint, type: SqlType): bigint {
  const range = INT_RANGES[type.name] ?? INT_RANGES.int8;
  if (range && (value < range[0] || value > range[1]))
    throw new EvaluationError(`${range[2]} out of range`);
  return value;
}

function asDecimal(value: Value): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === "bigint") return Decimal.fromBigInt(value);
  if (typeof value === "number") return Decimal.fromFloat(value);
  throw new EvaluationError(`not a number: ${String(value)}`);
}

function toFloat(value: Value): number {
  return value instanceof Decimal ? value.toNumber() : Number(value);
}

/** float → integer: Postgres rounds half to even (rint). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function castValue(value: Value, from: Expr, to: SqlType, scope: Scope): Value {
  if (value === null) return null;
  if (to.family === "text") {
    // A column cast to text is its Postgres text output, which we still have verbatim.
    if (from.kind === "column") return scope.row[from.name] ?? null;
    return scalarText(value, from.type);
  }
  if (to.family === "int") {
    if (value instanceof Decimal) {
      try {
        return checkedInt(value.toBigInt(), to);
      } catch (error) {
        if (error instanceof DecimalError)
          throw new EvaluationError(error.message);
        throw error;
      }
    }
    if (typeof value === "number") {
      if (!Number.isFinite(value))
        throw new EvaluationError(`${to.name} out of range`);
      return checkedInt(BigInt(roundHalfEven(value)), to);
    }
    return typeof value === "bigint" ? checkedInt(value, to) : value;
  }
  if (to.family === "numeric") {
    if (typeof value === "number")
      return Decimal.fromFloat(value, from.type.name === "float4" ? 6 : 15);
    return asDecimal(value);
  }
  if (to.family === "float") {
    const number = toFloat(value);
    return to.name === "float4" ? Math.fround(number) : number;
  }
  return value;
}

function scalarText(value: Value, type: SqlType): string {
  if (Array.isArray(value))
    return `{${value.map((item) => (item === null ? "NULL" : scalarText(item, type))).join(",")}}`;
  if (value === null) return "NULL";
  return pgText(value, type);
}
