/**
 * WHERE clause validation: the clause is parsed by the real Postgres parser, then every node is
 * checked against the subset Electric documents (column refs of the root table, constants,
 * `$n` params, casts, comparisons, boolean logic, IS [NOT] NULL/TRUE/FALSE/DISTINCT FROM, IN,
 * BETWEEN, LIKE/ILIKE, arithmetic, `||`, array `@> <@ &&`, `= ANY/ALL`, and the functions
 * lower/upper/coalesce/greatest/least) and typed the way Postgres would type it. Anything else
 * (subqueries, other functions, JSON operators, ...) is rejected with a message saying what.
 *
 * @see electric-protocol.md §7.1
 */
import type { A_Expr, Node } from "libpg-query";

import type { ArithOp, CallName, CompareOp, Expr } from "./ast";
import type { SqlType, Value } from "./types";
import { measureTree } from "../parse-tree";
import { parseSql, singleSelect, SqlParseError } from "../pg-parser";
import { Decimal } from "./decimal";
import {
  BOOL,
  canonicalTypeName,
  describeType,
  FLOAT8,
  INT4,
  INT8,
  NUMERIC,
  parseValue,
  TEXT,
  typeByName,
  UNKNOWN,
  ValueSyntaxError,
} from "./types";

/**
 * A clause Electric would refuse, worded and located the way Electric reports it
 * (`replication/eval/parser.ex`): most problems are prefixed `At location N: `, N being the
 * offset in the clause of the node at fault (0 when there is none); a few that Electric finds
 * before walking the tree carry no location (`location === null`).
 */
export class WhereClauseError extends Error {
  override name = "WhereClauseError";
  /** Undefined until the enclosing node (or the clause, 0) gives it one. */
  location: number | null | undefined;

  constructor(
    readonly reason: string,
    location?: number | null,
  ) {
    super(reason);
    if (location !== undefined) this.at(location);
  }

  at(location: number | null): this {
    this.location = location;
    this.message =
      location === null
        ? this.reason
        : `At location ${location}: ${this.reason}`;
    return this;
  }
}

/**
 * Deepest nesting of a clause's parse tree, in nodes (an operator, a function call, a cast, a
 * NOT, a column reference and its name are a level each: `a = 1` is 3 deep). Checked before
 * the analysis, which recurses; 100 levels are far more than any hand-written or generated
 * filter needs, and far less than the stack takes.
 */
export const MAX_WHERE_DEPTH = 100;

/** Electric parses `SELECT 1 WHERE <clause>` and reports node offsets relative to the clause. */
const WHERE_PREFIX = "SELECT 1 WHERE ";

/** A column whose type the evaluator cannot compare exactly like Postgres. */
export interface UnsupportedColumn {
  unsupportedType: string;
}

/**
 * Why a column can't be used. Electric has no timetz/json/jsonb/bytea operators either;
 * rather than evaluate any of them differently from the snapshot query, the shape is refused.
 */
function unsupportedTypeMessage(
  name: string,
  { unsupportedType }: UnsupportedColumn,
): string {
  const reason: Record<string, string> = {
    timetz:
      "timetz is not supported in WHERE clauses (Electric does not support it either)",
    json: "json values cannot be compared in WHERE clauses (JSON operators are not supported, as in Electric)",
    jsonb:
      "jsonb values cannot be compared in WHERE clauses (JSON operators are not supported, as in Electric)",
  };
  return `column ${name} has type ${unsupportedType}: ${reason[unsupportedType] ?? "this type cannot be used in a WHERE clause"}`;
}

export interface AnalyzedWhere {
  expr: Expr;
  /** Inferred type of each `$n` (index n-1). */
  paramTypes: SqlType[];
  /** Offset in the clause of each `$n`'s first use, for Electric's `At location N:`. */
  paramLocations: ReadonlyMap<number, number>;
}

const COMPARE_OPS = new Set(["=", "<>", "!=", "<", "<=", ">", ">="]);
const ARITH_OPS = new Set(["+", "-", "*", "/", "%"]);
const FUNCTIONS = new Set<string>([
  "lower",
  "upper",
  "coalesce",
  "greatest",
  "least",
]);

export function analyzeWhere(
  where: string,
  columnType: (name: string) => SqlType | UnsupportedColumn | undefined,
): AnalyzedWhere {
  try {
    return analyze(where, columnType);
  } catch (error) {
    if (error instanceof WhereClauseError && error.location === undefined)
      error.at(0);
    throw error;
  }
}

function analyze(
  where: string,
  columnType: (name: string) => SqlType | UnsupportedColumn | undefined,
): AnalyzedWhere {
  let parsed;
  try {
    parsed = parseSql(`${WHERE_PREFIX}${where}`);
  } catch (error) {
    if (error instanceof SqlParseError)
      throw new WhereClauseError(error.message, syntaxErrorLocation(error));
    throw error;
  }
  if ((parsed.stmts?.length ?? 0) > 1)
    throw new WhereClauseError('unescaped ";" causing statement split', null);
  const select = singleSelect(parsed);
  const clause = select?.whereClause;
  if (!select || !clause)
    throw new WhereClauseError("expected a single boolean expression", null);
  if (
    select.fromClause !== undefined ||
    select.groupClause !== undefined ||
    select.havingClause !== undefined ||
    select.sortClause !== undefined ||
    select.limitCount !== undefined ||
    select.limitOffset !== undefined ||
    select.lockingClause !== undefined ||
    select.windowClause !== undefined
  ) {
    throw new WhereClauseError("malformed query ending with SQL clauses", null);
  }
  // Before anything recurses over the tree (analysis, SQL rendering, evaluation).
  const { depth, hasSubLink } = measureTree(clause);
  if (depth > MAX_WHERE_DEPTH)
    throw new WhereClauseError(
      `expression is nested too deeply: more than ${MAX_WHERE_DEPTH} levels of operators, function calls, casts or NOT`,
      null,
    );
  // Electric refuses subqueries before looking at anything else, without a location.
  if (hasSubLink)
    throw new WhereClauseError(
      "Subqueries are not supported (this server does not implement their move-in/move-out)",
      null,
    );
  const params = new Map<number, SqlType>();
  const paramLocations = new Map<number, number>();
  const analyzer = new Analyzer(columnType, params, paramLocations);
  const top = analyzer.node(clause);
  const expr = top.type.family === "unknown" ? analyzer.typed(top, BOOL) : top;
  if (expr.type.family !== "bool" || expr.type.dims !== 0)
    throw new WhereClauseError(
      `WHERE clause must return a boolean (this one returns ${describeType(expr.type)})`,
      null,
    );
  const count = params.size === 0 ? 0 : Math.max(...params.keys());
  const paramTypes: SqlType[] = [];
  for (let index = 1; index <= count; index++) {
    const type = params.get(index);
    if (!type)
      throw new WhereClauseError(
        `expression is missing $${index} - parameters should be numbered sequentially`,
        0,
      );
    paramTypes.push(type.family === "unknown" ? TEXT : type);
  }
  return { expr, paramTypes, paramLocations };
}

/**
 * Electric reports the parser's `cursorpos` as is: 1-based and counted in the prefixed query
 * (`parser.ex` get_where_internal_ast); libpg-query's `cursorPosition` is 0-based.
 */
function syntaxErrorLocation(error: SqlParseError): number {
  const cause = error.cause as
    { sqlDetails?: { cursorPosition?: number } } | undefined;
  const position = cause?.sqlDetails?.cursorPosition;
  return typeof position === "number" ? position + 1 : 0;
}

/** A node's offset in the clause, as Electric computes it (`max(loc - prefix, 0)`). */
function clauseLocation(node: Node): number | undefined {
  const inner: unknown = Object.values(node)[0];
  const location =
    inner && typeof inner === "object" && "location" in inner
      ? inner.location
      : undefined;
  return typeof location === "number"
    ? Math.max(location - WHERE_PREFIX.length, 0)
    : undefined;
}

class Analyzer {
  constructor(
    private readonly columnType: (
      name: string,
    ) => SqlType | UnsupportedColumn | undefined,
    private readonly params: Map<number, SqlType>,
    private readonly paramLocations: Map<number, number>,
  ) {}

  /** Errors from inside `node` without a location of their own get its location. */
  node(node: Node): Expr {
    try {
      return this.unlocatedNode(node);
    } catch (error) {
      if (error instanceof WhereClauseError && error.location === undefined) {
        const location = clauseLocation(node);
        if (location !== undefined) error.at(location);
      }
      throw error;
    }
  }

  private unlocatedNode(node: Node): Expr {
    if ("ColumnRef" in node) return this.columnRef(node.ColumnRef.fields ?? []);
    if ("A_Const" in node) return this.constant(node.A_Const);
    if ("ParamRef" in node) {
      const index = node.ParamRef.number ?? 0;
      const location = clauseLocation(node);
      if (location !== undefined && !this.paramLocations.has(index))
        this.paramLocations.set(index, location);
      return this.param(index);
    }
    if ("TypeCast" in node) return this.cast(node.TypeCast);
    if ("BoolExpr" in node) {
      const args = (node.BoolExpr.args ?? []).map((arg) =>
        this.typed(this.node(arg), BOOL, "argument of boolean operator"),
      );
      switch (node.BoolExpr.boolop) {
        case "AND_EXPR":
          return { kind: "and", args, type: BOOL };
        case "OR_EXPR":
          return { kind: "or", args, type: BOOL };
        default: {
          const [arg] = args;
          if (!arg) throw new WhereClauseError("NOT without operand");
          return { kind: "not", arg, type: BOOL };
        }
      }
    }
    if ("NullTest" in node) {
      const { arg, nulltesttype } = node.NullTest;
      if (!arg) throw new WhereClauseError("IS NULL without operand");
      const inner = this.rawColumn(arg) ?? this.node(arg);
      return {
        kind: "isNull",
        arg: inner,
        negated: nulltesttype === "IS_NOT_NULL",
        type: BOOL,
      };
    }
    if ("BooleanTest" in node) {
      const { arg, booltesttype } = node.BooleanTest;
      if (!arg) throw new WhereClauseError("IS TRUE without operand");
      const inner = this.typed(this.node(arg), BOOL, "argument of IS");
      const test = booltesttype ?? "IS_TRUE";
      return {
        kind: "boolTest",
        arg: inner,
        test: test.includes("TRUE")
          ? "true"
          : test.includes("FALSE")
            ? "false"
            : "unknown",
        negated: test.startsWith("IS_NOT"),
        type: BOOL,
      };
    }
    if ("A_Expr" in node) return this.aExpr(node.A_Expr);
    if ("FuncCall" in node) return this.funcCall(node.FuncCall);
    if ("CoalesceExpr" in node)
      return this.call("coalesce", node.CoalesceExpr.args ?? []);
    if ("MinMaxExpr" in node)
      return this.call(
        node.MinMaxExpr.op === "IS_LEAST" ? "least" : "greatest",
        node.MinMaxExpr.args ?? [],
      );
    if ("A_ArrayExpr" in node)
      return this.arrayExpr(node.A_ArrayExpr.elements ?? []);
    const kind = Object.keys(node)[0] ?? "unknown";
    throw new WhereClauseError(`unsupported expression: ${describeNode(kind)}`);
  }

  /** Gives `expr` the type `target` if it is an untyped literal/param, else checks it. */
  typed(expr: Expr, target: SqlType, context = "expression"): Expr {
    if (expr.type.family === "unknown") return this.coerce(expr, target);
    if (target.family === "bool" && expr.type.family !== "bool")
      throw new WhereClauseError(
        `${context} must be type boolean, not type ${describeType(expr.type)}`,
      );
    return expr;
  }

  private coerce(expr: Expr, target: SqlType): Expr {
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

  private columnRef(fields: Node[]): Expr {
    const names = fields.map((field) => {
      if ("String" in field) return field.String.sval ?? "";
      if ("A_Star" in field)
        throw new WhereClauseError("* is not allowed in a WHERE clause");
      throw new WhereClauseError("unsupported column reference");
    });
    if (names.length !== 1)
      throw new WhereClauseError(
        `qualified column references are not supported: ${names.join(".")}`,
      );
    const name = names[0] ?? "";
    const type = this.columnType(name);
    if (type === undefined)
      throw new WhereClauseError(`unknown reference ${name}`);
    if ("unsupportedType" in type)
      throw new WhereClauseError(unsupportedTypeMessage(name, type));
    return { kind: "column", name, type };
  }

  /**
   * A column whose type the evaluator can't compare (interval, time, json, …), where only its
   * presence or its text matters (`col IS NULL`, `col::text`): the evaluator has the Postgres
   * text output verbatim from the row, and the snapshot query produces it identically under
   * the same session settings.
   */
  private rawColumn(arg: Node): Expr | undefined {
    const fields = "ColumnRef" in arg ? (arg.ColumnRef.fields ?? []) : [];
    const field = fields.length === 1 ? fields[0] : undefined;
    const name = field && "String" in field ? field.String.sval : undefined;
    if (name === undefined) return undefined;
    const type = this.columnType(name);
    if (!type || !("unsupportedType" in type)) return undefined;
    return {
      kind: "column",
      name,
      type: { family: "unknown", name: type.unsupportedType, dims: 0 },
    };
  }

  private constant(node: Extract<Node, { A_Const: unknown }>["A_Const"]): Expr {
    if (node.isnull) return { kind: "const", value: null, type: UNKNOWN };
    if (node.ival !== undefined) {
      const value = BigInt(node.ival.ival ?? 0);
      return { kind: "const", value, type: INT4 };
    }
    if (node.fval !== undefined) {
      const text = node.fval.fval ?? "0";
      // The parser gives integers beyond int4 as "float" tokens; Postgres types them int8.
      if (/^-?\d+$/.test(text)) {
        const value = BigInt(text);
        if (value >= -(2n ** 63n) && value < 2n ** 63n)
          return { kind: "const", value, type: INT8 };
      }
      const value = Decimal.parse(text);
      if (!value)
        throw new WhereClauseError(
          `invalid input syntax for type numeric: "${text}"`,
        );
      return { kind: "const", value, type: NUMERIC };
    }
    if (node.boolval !== undefined)
      return {
        kind: "const",
        value: node.boolval.boolval ?? false,
        type: BOOL,
      };
    if (node.sval !== undefined)
      return { kind: "const", value: node.sval.sval ?? "", type: UNKNOWN };
    throw new WhereClauseError("unsupported constant (bit strings)");
  }

  private param(index: number): Expr {
    if (index < 1) throw new WhereClauseError("invalid parameter reference");
    if (!this.params.has(index)) this.params.set(index, UNKNOWN);
    const known = this.params.get(index) ?? UNKNOWN;
    return { kind: "param", index, type: known };
  }

  private cast(node: Extract<Node, { TypeCast: unknown }>["TypeCast"]): Expr {
    const names = (node.typeName?.names ?? []).map((name) =>
      "String" in name ? (name.String.sval ?? "") : "",
    );
    const typeName = canonicalTypeName(names[names.length - 1] ?? "");
    const schema = names.length > 1 ? names[0] : "pg_catalog";
    const dims = node.typeName?.arrayBounds?.length ?? 0;
    // numeric(10,2), varchar(3), ... round or cut the value; the evaluator does not.
    if (node.typeName?.typmods?.length)
      throw new WhereClauseError(
        `casts with a type modifier (${names.join(".")}(...)) are not supported`,
      );
    const target =
      schema === "pg_catalog" ? typeByName(typeName, dims) : undefined;
    if (!target)
      throw new WhereClauseError(
        `casts to ${names.join(".")}${dims ? "[]" : ""} are not supported`,
      );
    if (!node.arg) throw new WhereClauseError("cast without operand");
    const raw =
      target.family === "text" && target.dims === 0
        ? this.rawColumn(node.arg)
        : undefined;
    if (raw) return { kind: "cast", arg: raw, type: TEXT, toText: true };
    const inner = this.node(node.arg);
    if (inner.type.family === "unknown") return this.coerce(inner, target);
    if (sameType(inner.type, target)) return inner;
    if (!canCast(inner.type, target))
      throw new WhereClauseError(
        `cannot cast type ${describeType(inner.type)} to ${describeType(target)}`,
      );
    return {
      kind: "cast",
      arg: inner,
      type: target,
      toText: target.family === "text",
    };
  }

  private aExpr(node: A_Expr): Expr {
    const operator = operatorName(node);
    switch (node.kind) {
      case "AEXPR_OP": {
        if (!node.lexpr) return this.unary(operator, node.rexpr);
        return this.binary(
          operator,
          this.need(node.lexpr),
          this.need(node.rexpr),
        );
      }
      case "AEXPR_DISTINCT":
      case "AEXPR_NOT_DISTINCT": {
        const [left, right] = this.unify(
          this.need(node.lexpr),
          this.need(node.rexpr),
        );
        this.requireComparable(left.type, "=");
        return {
          kind: "distinct",
          left,
          right,
          negated: node.kind === "AEXPR_NOT_DISTINCT",
          type: BOOL,
        };
      }
      case "AEXPR_IN": {
        const list =
          node.rexpr && "List" in node.rexpr
            ? (node.rexpr.List.items ?? [])
            : [];
        let arg = this.need(node.lexpr);
        let items = list.map((item) => this.node(item));
        const known = [arg, ...items].find(
          (item) => item.type.family !== "unknown",
        );
        const type = known?.type ?? TEXT;
        arg = this.typed(arg, type);
        items = items.map((item) => this.typed(item, type));
        for (const item of items)
          this.requireSameFamily(arg.type, item.type, "IN");
        this.requireComparable(type, "=");
        return {
          kind: "in",
          arg,
          list: items,
          negated: operator === "<>",
          type: BOOL,
        };
      }
      case "AEXPR_LIKE":
      case "AEXPR_ILIKE": {
        const arg = this.typed(this.need(node.lexpr), TEXT);
        const pattern = this.typed(this.need(node.rexpr), TEXT);
        if (
          arg.type.family !== "text" ||
          pattern.type.family !== "text" ||
          arg.type.dims ||
          pattern.type.dims
        )
          throw new WhereClauseError(
            `operator does not exist: ${describeType(arg.type)} ${operator} ${describeType(pattern.type)}`,
          );
        return {
          kind: "like",
          arg,
          pattern,
          caseInsensitive: node.kind === "AEXPR_ILIKE",
          negated: operator.startsWith("!"),
          type: BOOL,
        };
      }
      case "AEXPR_BETWEEN":
      case "AEXPR_NOT_BETWEEN":
      case "AEXPR_BETWEEN_SYM":
      case "AEXPR_NOT_BETWEEN_SYM": {
        const bounds =
          node.rexpr && "List" in node.rexpr
            ? (node.rexpr.List.items ?? [])
            : [];
        const [lowNode, highNode] = bounds;
        if (!lowNode || !highNode)
          throw new WhereClauseError("BETWEEN needs two bounds");
        const value = this.need(node.lexpr);
        const low = this.binary(">=", value, this.node(lowNode));
        const high = this.binary("<=", value, this.node(highNode));
        let expr: Expr = { kind: "and", args: [low, high], type: BOOL };
        if (node.kind.includes("SYM")) {
          const swappedLow = this.binary(">=", value, this.node(highNode));
          const swappedHigh = this.binary("<=", value, this.node(lowNode));
          expr = {
            kind: "or",
            args: [
              expr,
              { kind: "and", args: [swappedLow, swappedHigh], type: BOOL },
            ],
            type: BOOL,
          };
        }
        return node.kind.includes("NOT")
          ? { kind: "not", arg: expr, type: BOOL }
          : expr;
      }
      case "AEXPR_OP_ANY":
      case "AEXPR_OP_ALL": {
        if (!isCompareOp(operator))
          throw new WhereClauseError(
            `operator ${operator} ANY/ALL is not supported`,
          );
        let left = this.need(node.lexpr);
        let array = this.need(node.rexpr);
        if (array.type.family === "unknown") {
          const element = left.type.family === "unknown" ? TEXT : left.type;
          array = this.typed(array, { ...element, dims: 1 });
        }
        if (array.type.dims === 0)
          throw new WhereClauseError(
            `op ANY/ALL (array) requires array on right side`,
          );
        left = this.typed(left, { ...array.type, dims: 0 });
        this.requireSameFamily(left.type, { ...array.type, dims: 0 }, operator);
        return {
          kind: "quantified",
          op: normaliseCompare(operator),
          quantifier: node.kind === "AEXPR_OP_ANY" ? "any" : "all",
          left,
          array,
          type: BOOL,
        };
      }
      default:
        throw new WhereClauseError(
          `unsupported expression: ${node.kind ?? "operator"}`,
        );
    }
  }

  private need(node: Node | undefined): Expr {
    if (!node) throw new WhereClauseError("operator is missing an operand");
    return this.node(node);
  }

  private unary(operator: string, operand: Node | undefined): Expr {
    const arg = this.need(operand);
    if (operator === "-" || operator === "+") {
      const typed = this.typed(arg, NUMERIC);
      if (!isNumeric(typed.type))
        throw new WhereClauseError(
          `operator does not exist: ${operator} ${describeType(typed.type)}`,
        );
      return operator === "-"
        ? { kind: "negate", arg: typed, type: typed.type }
        : typed;
    }
    throw new WhereClauseError(`unsupported prefix operator ${operator}`);
  }

  private binary(operator: string, leftRaw: Expr, rightRaw: Expr): Expr {
    if (isCompareOp(operator)) {
      const [left, right] = this.unify(leftRaw, rightRaw);
      const op = normaliseCompare(operator);
      this.requireComparable(left.type, op);
      return { kind: "compare", op, left, right, type: BOOL };
    }
    if (ARITH_OPS.has(operator)) {
      const [left, right] = this.unify(leftRaw, rightRaw);
      if (
        !isNumeric(left.type) ||
        left.type.dims > 0 ||
        (operator === "%" && left.type.family === "float")
      )
        throw new WhereClauseError(
          `operator does not exist: ${describeType(left.type)} ${operator} ${describeType(right.type)}`,
        );
      return {
        kind: "arith",
        op: operator as ArithOp,
        left,
        right,
        type: widerNumeric(left.type, right.type),
      };
    }
    if (operator === "||") {
      if (leftRaw.type.dims > 0 || rightRaw.type.dims > 0)
        throw new WhereClauseError("array concatenation is not supported");
      const left = this.typed(leftRaw, TEXT);
      const right = this.typed(rightRaw, TEXT);
      if (left.type.family !== "text" && right.type.family !== "text")
        throw new WhereClauseError(
          `operator does not exist: ${describeType(left.type)} || ${describeType(right.type)}`,
        );
      return {
        kind: "concat",
        left: this.asText(left),
        right: this.asText(right),
        type: TEXT,
      };
    }
    if (operator === "@>" || operator === "<@" || operator === "&&") {
      const [left, right] = this.unify(leftRaw, rightRaw);
      if (left.type.dims === 0 || right.type.dims === 0)
        throw new WhereClauseError(
          `operator ${operator} requires arrays on both sides`,
        );
      return { kind: "arrayOp", op: operator, left, right, type: BOOL };
    }
    throw new WhereClauseError(`unsupported operator ${operator}`);
  }

  private asText(expr: Expr): Expr {
    if (expr.type.family === "text") return expr;
    return { kind: "cast", arg: expr, type: TEXT, toText: true };
  }

  /** Postgres' rule for binary operators: an untyped side takes the other side's type. */
  private unify(left: Expr, right: Expr): [Expr, Expr] {
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
    this.requireSameFamily(left.type, right.type, "comparison");
    return [left, right];
  }

  private requireSameFamily(a: SqlType, b: SqlType, what: string) {
    const compatible =
      a.family === b.family && (a.family !== "enum" || a.name === b.name);
    if (!compatible && !(isNumeric(a) && isNumeric(b)))
      throw new WhereClauseError(
        `operator does not exist for ${what}: ${describeType(a)} and ${describeType(b)}`,
      );
  }

  private requireComparable(type: SqlType, op: CompareOp) {
    if (type.family === "enum" && op !== "=" && op !== "<>")
      throw new WhereClauseError(
        `ordering comparisons on enum type ${type.name} are not supported; cast it to text`,
      );
    if (type.dims > 0 && op !== "=" && op !== "<>")
      throw new WhereClauseError(
        "ordering comparisons on arrays are not supported",
      );
  }

  private funcCall(
    node: Extract<Node, { FuncCall: unknown }>["FuncCall"],
  ): Expr {
    const names = (node.funcname ?? []).map((name) =>
      "String" in name ? (name.String.sval ?? "") : "",
    );
    const name = names[names.length - 1] ?? "";
    const schema = names.length > 1 ? names[0] : "pg_catalog";
    if (
      schema !== "pg_catalog" ||
      !FUNCTIONS.has(name) ||
      node.agg_star ||
      node.agg_distinct ||
      node.over ||
      node.agg_filter ||
      node.agg_order ||
      node.func_variadic
    )
      throw new WhereClauseError(
        `unknown or unsupported function ${names.join(".")}/${node.args?.length ?? 0}`,
      );
    return this.call(name as CallName, node.args ?? []);
  }

  private call(name: CallName, argNodes: Node[]): Expr {
    let args = argNodes.map((arg) => this.node(arg));
    if (name === "lower" || name === "upper") {
      if (args.length !== 1)
        throw new WhereClauseError(
          `function ${name} takes exactly one argument`,
        );
      args = args.map((arg) => this.typed(arg, TEXT));
      if (args[0]?.type.family !== "text" || args[0].type.dims)
        throw new WhereClauseError(
          `function ${name}(${describeType(args[0]?.type ?? UNKNOWN)}) does not exist`,
        );
      return { kind: "call", name, args, type: TEXT };
    }
    if (args.length === 0)
      throw new WhereClauseError(`${name} needs arguments`);
    const known = args.find((arg) => arg.type.family !== "unknown");
    const type = known?.type ?? TEXT;
    args = args.map((arg) => this.typed(arg, type));
    for (const arg of args) {
      this.requireSameFamily(type, arg.type, name);
      if (arg.type.dims !== type.dims)
        throw new WhereClauseError(`${name} arguments must have the same type`);
    }
    if (name !== "coalesce") this.requireComparable(type, "<");
    return { kind: "call", name, args, type };
  }

  private arrayExpr(elements: Node[]): Expr {
    const items = elements.map((element) => this.node(element));
    const known = items.find((item) => item.type.family !== "unknown");
    const elementType = known?.type ?? TEXT;
    if (elementType.dims > 0)
      throw new WhereClauseError("nested ARRAY[] is not supported");
    const typed = items.map((item) => this.typed(item, elementType));
    const values: Value[] = [];
    for (const item of typed) {
      if (item.kind !== "const")
        throw new WhereClauseError("ARRAY[...] may only contain constants");
      this.requireSameFamily(elementType, item.type, "ARRAY");
      values.push(item.value);
    }
    return { kind: "const", value: values, type: { ...elementType, dims: 1 } };
  }
}

function operatorName(node: A_Expr): string {
  const parts = (node.name ?? []).map((name) =>
    "String" in name ? (name.String.sval ?? "") : "",
  );
  if (parts.length > 1 && parts[0] !== "pg_catalog")
    throw new WhereClauseError(`unsupported operator ${parts.join(".")}`);
  const operator = parts[parts.length - 1] ?? "";
  if (
    node.kind === "AEXPR_OP" &&
    !COMPARE_OPS.has(operator) &&
    !ARITH_OPS.has(operator) &&
    !["||", "@>", "<@", "&&"].includes(operator)
  )
    throw new WhereClauseError(`unsupported operator ${operator}`);
  return operator;
}

function isCompareOp(operator: string): boolean {
  return COMPARE_OPS.has(operator);
}

function normaliseCompare(operator: string): CompareOp {
  return (operator === "!=" ? "<>" : operator) as CompareOp;
}

function isNumeric(type: SqlType): boolean {
  return (
    type.family === "int" ||
    type.family === "float" ||
    type.family === "numeric"
  );
}

/** The common type Postgres resolves mixed numeric operands to (int → numeric → float8). */
function widerNumeric(a: SqlType, b: SqlType): SqlType {
  if (a.family === "float" || b.family === "float")
    return a.name === "float4" && b.name === "float4" ? a : FLOAT8;
  if (a.family === "numeric" || b.family === "numeric") return NUMERIC;
  const rank = (type: SqlType) => ["int2", "int4", "int8"].indexOf(type.name);
  return rank(a) >= rank(b) ? a : b;
}

function sameType(a: SqlType, b: SqlType): boolean {
  return a.family === b.family && a.name === b.name && a.dims === b.dims;
}

function canCast(from: SqlType, to: SqlType): boolean {
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

function describeNode(kind: string): string {
  const names: Record<string, string> = {
    A_Indirection: "field or array subscript access",
    CaseExpr: "CASE expression",
    RowExpr: "row constructor",
    CollateClause: "COLLATE",
    SQLValueFunction: "non-deterministic function",
  };
  return names[kind] ?? kind;
}
