/** The typed expression tree a WHERE clause is compiled to after validation. */
import type { SqlType, Value } from "./types";

export type Expr =
  | { kind: "column"; name: string; type: SqlType }
  | { kind: "const"; value: Value; type: SqlType }
  | { kind: "param"; index: number; type: SqlType }
  | { kind: "cast"; arg: Expr; type: SqlType; toText: boolean }
  | { kind: "and" | "or"; args: Expr[]; type: SqlType }
  | { kind: "not"; arg: Expr; type: SqlType }
  | { kind: "isNull"; arg: Expr; negated: boolean; type: SqlType }
  | {
      kind: "boolTest";
      arg: Expr;
      test: "true" | "false" | "unknown";
      negated: boolean;
      type: SqlType;
    }
  | { kind: "compare"; op: CompareOp; left: Expr; right: Expr; type: SqlType }
  | {
      kind: "distinct";
      left: Expr;
      right: Expr;
      negated: boolean;
      type: SqlType;
    }
  | { kind: "arith"; op: ArithOp; left: Expr; right: Expr; type: SqlType }
  | { kind: "negate"; arg: Expr; type: SqlType }
  | { kind: "concat"; left: Expr; right: Expr; type: SqlType }
  | {
      kind: "like";
      arg: Expr;
      pattern: Expr;
      caseInsensitive: boolean;
      negated: boolean;
      type: SqlType;
    }
  | { kind: "in"; arg: Expr; list: Expr[]; negated: boolean; type: SqlType }
  | {
      kind: "quantified";
      op: CompareOp;
      quantifier: "any" | "all";
      left: Expr;
      array: Expr;
      type: SqlType;
    }
  | {
      kind: "arrayOp";
      op: "@>" | "<@" | "&&";
      left: Expr;
      right: Expr;
      type: SqlType;
    }
  | { kind: "call"; name: CallName; args: Expr[]; type: SqlType };

export type CompareOp = "=" | "<>" | "<" | "<=" | ">" | ">=";
export type ArithOp = "+" | "-" | "*" | "/" | "%";
export type CallName = "lower" | "upper" | "coalesce" | "greatest" | "least";
