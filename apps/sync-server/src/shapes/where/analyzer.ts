/**
 * The WHERE clause's parse tree, node by node, to a typed expression (`Expr`): every node is
 * checked against the subset Electric documents (column refs of the root table, constants,
 * `$n` params, casts, comparisons, boolean logic, IS [NOT] NULL/TRUE/FALSE/DISTINCT FROM, IN,
 * BETWEEN, LIKE/ILIKE, arithmetic, `||`, array `@> <@ &&`, `= ANY/ALL`, and the functions
 * lower/upper/coalesce/greatest/least) and typed by the rules in `type-rules.ts`; anything else
 * (subqueries, other functions, JSON operators, ...) is refused, saying what.
 */
import type { A_Expr, Node } from "libpg-query";

import type { ArithOp, CallName, CompareOp, Expr } from "./ast";
import type { SqlType, Value } from "./types";
import type { UnsupportedColumn } from "./where-error";
import { columnRefName } from "../pg-parser";
import { Decimal } from "./decimal";
import {
  asText,
  canCast,
  isNumeric,
  requireComparable,
  requireSameFamily,
  sameType,
  TypeRules,
  widerNumeric,
} from "./type-rules";
import {
  BOOL,
  canonicalTypeName,
  describeType,
  INT4,
  INT8,
  NUMERIC,
  TEXT,
  typeByName,
  UNKNOWN,
} from "./types";
import {
  clauseLocation,
  unsupportedTypeMessage,
  WhereClauseError,
} from "./where-error";

/** A column's type by name: undefined for no such column. */
export type ColumnTypes = (
  name: string,
) => SqlType | UnsupportedColumn | undefined;

const COMPARE_OPS = new Set(["=", "<>", "!=", "<", "<=", ">", ">="]);
const ARITH_OPS = new Set(["+", "-", "*", "/", "%"]);
const FUNCTIONS = new Set<string>([
  "lower",
  "upper",
  "coalesce",
  "greatest",
  "least",
]);

export class Analyzer {
  readonly types: TypeRules;

  /**
   * `params` and `paramLocations` are filled as `$n` are met: each one's type and the offset
   * of its first use.
   */
  constructor(
    private readonly columnType: ColumnTypes,
    readonly params: Map<number, SqlType>,
    private readonly paramLocations: Map<number, number>,
  ) {
    this.types = new TypeRules(params);
  }

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
        this.types.typed(this.node(arg), BOOL, "argument of boolean operator"),
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
      const inner = this.types.typed(this.node(arg), BOOL, "argument of IS");
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
    const name = columnRefName(arg);
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
    if (inner.type.family === "unknown")
      return this.types.coerce(inner, target);
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
        const [left, right] = this.types.unify(
          this.need(node.lexpr),
          this.need(node.rexpr),
        );
        requireComparable(left.type, "=");
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
        arg = this.types.typed(arg, type);
        items = items.map((item) => this.types.typed(item, type));
        for (const item of items) requireSameFamily(arg.type, item.type, "IN");
        requireComparable(type, "=");
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
        const arg = this.types.typed(this.need(node.lexpr), TEXT);
        const pattern = this.types.typed(this.need(node.rexpr), TEXT);
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
          array = this.types.typed(array, { ...element, dims: 1 });
        }
        if (array.type.dims === 0)
          throw new WhereClauseError(
            `op ANY/ALL (array) requires array on right side`,
          );
        left = this.types.typed(left, { ...array.type, dims: 0 });
        requireSameFamily(left.type, { ...array.type, dims: 0 }, operator);
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
      const typed = this.types.typed(arg, NUMERIC);
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
      const [left, right] = this.types.unify(leftRaw, rightRaw);
      const op = normaliseCompare(operator);
      requireComparable(left.type, op);
      return { kind: "compare", op, left, right, type: BOOL };
    }
    if (ARITH_OPS.has(operator)) {
      const [left, right] = this.types.unify(leftRaw, rightRaw);
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
      const left = this.types.typed(leftRaw, TEXT);
      const right = this.types.typed(rightRaw, TEXT);
      if (left.type.family !== "text" && right.type.family !== "text")
        throw new WhereClauseError(
          `operator does not exist: ${describeType(left.type)} || ${describeType(right.type)}`,
        );
      return {
        kind: "concat",
        left: asText(left),
        right: asText(right),
        type: TEXT,
      };
    }
    if (operator === "@>" || operator === "<@" || operator === "&&") {
      const [left, right] = this.types.unify(leftRaw, rightRaw);
      if (left.type.dims === 0 || right.type.dims === 0)
        throw new WhereClauseError(
          `operator ${operator} requires arrays on both sides`,
        );
      return { kind: "arrayOp", op: operator, left, right, type: BOOL };
    }
    throw new WhereClauseError(`unsupported operator ${operator}`);
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
      args = args.map((arg) => this.types.typed(arg, TEXT));
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
    args = args.map((arg) => this.types.typed(arg, type));
    for (const arg of args) {
      requireSameFamily(type, arg.type, name);
      if (arg.type.dims !== type.dims)
        throw new WhereClauseError(`${name} arguments must have the same type`);
    }
    if (name !== "coalesce") requireComparable(type, "<");
    return { kind: "call", name, args, type };
  }

  private arrayExpr(elements: Node[]): Expr {
    const items = elements.map((element) => this.node(element));
    const known = items.find((item) => item.type.family !== "unknown");
    const elementType = known?.type ?? TEXT;
    if (elementType.dims > 0)
      throw new WhereClauseError("nested ARRAY[] is not supported");
    const typed = items.map((item) => this.types.typed(item, elementType));
    const values: Value[] = [];
    for (const item of typed) {
      if (item.kind !== "const")
        throw new WhereClauseError("ARRAY[...] may only contain constants");
      requireSameFamily(elementType, item.type, "ARRAY");
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
