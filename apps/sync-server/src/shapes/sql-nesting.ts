/**
 * How deeply SQL text can nest once parsed, estimated from its tokens in one pass, before the
 * parser sees it. The parser (libpg-query, WebAssembly) builds and serialises its tree
 * recursively: a chain of a few thousand operators (`1+1+1…`, well within a 64 KB parameter)
 * overflows the stack inside the module, which leaks part of its memory each time and after a
 * few dozen such requests breaks it for every later parse. So deep input must never reach it.
 *
 * The estimate is an upper bound on the tree depth, up to a small factor: within each bracket
 * group (`(…)`, `[…]`, `CASE … END`) the text splits into segments at commas, `;` and boolean
 * AND/OR (siblings in the tree: the parser flattens AND/OR chains), and at WHEN/THEN/ELSE
 * inside CASE; a segment costs one per token plus its deepest group, a group three plus its
 * deepest segment. A BETWEEN's own AND does not split (`a BETWEEN b AND c BETWEEN …` nests).
 * Strings, quoted identifiers and comments are skipped with Postgres' lexical rules
 * (`scan.l`, standard_conforming_strings on), since a separator inside a string splits nothing.
 */

interface Group {
  /** Closed by `)`/`]`, or by END for CASE. */
  kind: "bracket" | "case";
  tokens: number;
  deepestChild: number;
  deepestSegment: number;
  /** BETWEENs in this segment still waiting for their AND. */
  openBetweens: number;
}

const GROUP_COST = 3;

export function nestingEstimate(sql: string): number {
  const root = newGroup("bracket");
  const groups: Group[] = [root];
  const top = () => groups[groups.length - 1] ?? root;
  const close = () => {
    const group = groups.pop();
    if (!group) return;
    endSegment(group);
    const parent = top();
    parent.deepestChild = Math.max(
      parent.deepestChild,
      group.deepestSegment + GROUP_COST,
    );
  };
  const length = sql.length;
  let i = 0;
  while (i < length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const next = i + 1 < length ? sql.charCodeAt(i + 1) : -1;
    if (c === DASH && next === DASH) {
      i = skipLineComment(sql, i);
      continue;
    }
    if (c === SLASH && next === STAR) {
      i = skipBlockComment(sql, i);
      continue;
    }
    const group = top();
    if (c === OPEN_PAREN || c === OPEN_BRACKET) {
      groups.push(newGroup("bracket"));
      i++;
    } else if (c === CLOSE_PAREN || c === CLOSE_BRACKET) {
      if (groups.length > 1) close();
      i++;
    } else if (c === COMMA || c === SEMICOLON) {
      endSegment(group);
      i++;
    } else if (c === QUOTE) {
      group.tokens++;
      i = skipQuoted(sql, i + 1, QUOTE);
    } else if (c === DOUBLE_QUOTE) {
      group.tokens++;
      i = skipQuoted(sql, i + 1, DOUBLE_QUOTE);
    } else if (c === DOLLAR) {
      group.tokens++;
      i = skipDollar(sql, i);
    } else if (isIdentStart(c)) {
      const end = identEnd(sql, i);
      const word = sql.slice(i, end).toLowerCase();
      i = end;
      const after = i < length ? sql.charCodeAt(i) : -1;
      if (after === QUOTE && (word === "e" || word === "b" || word === "x")) {
        // E'…' takes backslash escapes; B'…' and X'…' end at the first quote.
        group.tokens++;
        i = skipQuoted(sql, i + 1, QUOTE, word === "e" ? "escapes" : "bits");
      } else if (
        word === "u" &&
        after === AMPERSAND &&
        (sql.charCodeAt(i + 1) === QUOTE ||
          sql.charCodeAt(i + 1) === DOUBLE_QUOTE)
      ) {
        group.tokens++;
        i = skipQuoted(sql, i + 2, sql.charCodeAt(i + 1));
      } else keyword(word, groups, group, close);
    } else if (isDigit(c) || (c === DOT && isDigit(next))) {
      group.tokens++;
      i++;
      while (i < length && isNumberPart(sql.charCodeAt(i))) i++;
    } else if (isOperatorChar(c)) {
      // Each character counts: Postgres splits runs like `-+-+` into one operator per
      // character, and an operator ends where a comment starts (`+--x`).
      do {
        group.tokens++;
        i++;
      } while (
        i < length &&
        isOperatorChar(sql.charCodeAt(i)) &&
        !startsComment(sql, i)
      );
    } else {
      group.tokens++;
      i++;
    }
  }
  while (groups.length > 1) close();
  endSegment(root);
  return root.deepestSegment + GROUP_COST;
}

function keyword(
  word: string,
  groups: Group[],
  group: Group,
  close: () => void,
): void {
  switch (word) {
    case "and":
      if (group.openBetweens > 0) {
        group.openBetweens--;
        group.tokens++;
      } else endSegment(group);
      return;
    case "or":
      endSegment(group);
      return;
    case "between":
      group.openBetweens++;
      group.tokens++;
      return;
    case "case":
      group.tokens++;
      groups.push(newGroup("case"));
      return;
    case "end":
      if (group.kind === "case") close();
      else group.tokens++;
      return;
    case "when":
    case "then":
    case "else":
      if (group.kind === "case") endSegment(group);
      else group.tokens++;
      return;
    default:
      group.tokens++;
  }
}

function newGroup(kind: Group["kind"]): Group {
  return {
    kind,
    tokens: 0,
    deepestChild: 0,
    deepestSegment: 0,
    openBetweens: 0,
  };
}

function endSegment(group: Group): void {
  group.deepestSegment = Math.max(
    group.deepestSegment,
    group.tokens + group.deepestChild,
  );
  group.tokens = 0;
  group.deepestChild = 0;
  group.openBetweens = 0;
}

/**
 * Index after the closing `quote` of a string or quoted identifier whose text starts at `from`
 * (the end of the input when unterminated, which the parser refuses). A doubled quote is part
 * of the text, except in B'…'/X'…' (`bits`); in E'…' (`escapes`) a backslash escapes the next
 * character.
 */
function skipQuoted(
  sql: string,
  from: number,
  quote: number,
  kind: "plain" | "escapes" | "bits" = "plain",
): number {
  let i = from;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (kind === "escapes" && c === BACKSLASH) i += 2;
    else if (c === quote) {
      if (kind !== "bits" && sql.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** `$1` (a parameter), `$tag$…$tag$` / `$$…$$` (a dollar-quoted string), or a lone `$`. */
function skipDollar(sql: string, at: number): number {
  let i = at + 1;
  if (isDigit(sql.charCodeAt(i))) {
    while (i < sql.length && isDigit(sql.charCodeAt(i))) i++;
    return i;
  }
  if (isIdentStart(sql.charCodeAt(i))) {
    i++;
    while (i < sql.length && isDollarTagPart(sql.charCodeAt(i))) i++;
  }
  if (sql.charCodeAt(i) !== DOLLAR) return at + 1;
  const delimiter = sql.slice(at, i + 1);
  const end = sql.indexOf(delimiter, i + 1);
  return end < 0 ? sql.length : end + delimiter.length;
}

function skipLineComment(sql: string, at: number): number {
  let i = at + 2;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === NEWLINE || c === RETURN) break;
    i++;
  }
  return i;
}

/** Block comments nest in Postgres: `/* /* *\/ still a comment *\/`. */
function skipBlockComment(sql: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === SLASH && sql.charCodeAt(i + 1) === STAR) {
      depth++;
      i += 2;
    } else if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

function startsComment(sql: string, i: number): boolean {
  const c = sql.charCodeAt(i);
  const next = sql.charCodeAt(i + 1);
  return (c === DASH && next === DASH) || (c === SLASH && next === STAR);
}

function identEnd(sql: string, from: number): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (!isIdentStart(c) && !isDigit(c) && c !== DOLLAR) break;
    i++;
  }
  return i;
}

const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DOLLAR = 0x24;
const BACKSLASH = 0x5c;
const AMPERSAND = 0x26;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const DOT = 0x2e;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Postgres' ident_start: a letter, `_`, or any non-ASCII character. */
function isIdentStart(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x5f ||
    c >= 0x80
  );
}

function isDollarTagPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isNumberPart(c: number): boolean {
  return isDigit(c) || isIdentStart(c) || c === DOT;
}

/** Postgres' op_chars: `~ ! @ # ^ & | \` ? + - * / % < > =`, plus `:` (`::`, `:=`). */
function isOperatorChar(c: number): boolean {
  return "~!@#^&|`?+-*/%<>=:".includes(String.fromCharCode(c));
}
