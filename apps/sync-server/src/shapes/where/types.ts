/**
 * Types the WHERE evaluator understands, and conversion of Postgres text output (what both the
 * snapshot query and pgoutput give us) into comparable JavaScript values.
 *
 * Representations: integers → bigint (int8 needs more than 2^53); numeric → exact `Decimal`;
 * float8 → number, float4 → number rounded to single precision (what Postgres widens to
 * float8 when it compares); text-like, uuid and enums → string; date → days since epoch;
 * timestamp/timestamptz → microseconds since epoch (bigint); time → microseconds since
 * midnight (bigint); interval → `Interval` (compared as Postgres does); arrays → nested JS
 * arrays.
 */
import { Decimal } from "./decimal";
import { Interval } from "./interval";
import {
  MICROS_PER_DAY,
  TIMESTAMP_INFINITY,
  TIMESTAMP_NEGATIVE_INFINITY,
} from "./time-units";

type Family =
  | "int"
  | "float"
  | "numeric"
  | "bool"
  | "text"
  | "uuid"
  | "date"
  | "timestamp"
  | "timestamptz"
  | "time"
  | "interval"
  | "enum"
  | "unknown";

export interface SqlType {
  family: Family;
  /** Postgres name used in casts when compiling back to SQL (e.g. int8, text, my_enum). */
  name: string;
  /** 0 = scalar. */
  dims: number;
}

export type Scalar = bigint | number | boolean | string | Decimal | Interval;
export type Value = Scalar | null | Value[];

const FAMILY_BY_TYPE: Record<string, Family> = {
  int2: "int",
  int4: "int",
  int8: "int",
  float4: "float",
  float8: "float",
  numeric: "numeric",
  bool: "bool",
  text: "text",
  varchar: "text",
  bpchar: "text",
  name: "text",
  uuid: "uuid",
  date: "date",
  timestamp: "timestamp",
  timestamptz: "timestamptz",
  time: "time",
  interval: "interval",
};

/** Aliases the parser produces for built-in type names in casts. */
const TYPE_ALIASES: Record<string, string> = {
  integer: "int4",
  int: "int4",
  smallint: "int2",
  bigint: "int8",
  real: "float4",
  "double precision": "float8",
  float: "float8",
  boolean: "bool",
  decimal: "numeric",
  "character varying": "varchar",
  character: "bpchar",
  char: "bpchar",
};

export function canonicalTypeName(name: string): string {
  return TYPE_ALIASES[name] ?? name;
}

/** The evaluator type of a column; undefined when the column's type can't be used in WHERE. */
export function typeOfColumn(column: {
  type: string;
  dims: number;
  isEnum: boolean;
}): SqlType | undefined {
  const family = column.isEnum ? "enum" : FAMILY_BY_TYPE[column.type];
  return family ? { family, name: column.type, dims: column.dims } : undefined;
}

export function typeByName(name: string, dims = 0): SqlType | undefined {
  const canonical = canonicalTypeName(name);
  const family = FAMILY_BY_TYPE[canonical];
  return family ? { family, name: canonical, dims } : undefined;
}

export const UNKNOWN: SqlType = { family: "unknown", name: "unknown", dims: 0 };
export const BOOL: SqlType = { family: "bool", name: "bool", dims: 0 };
export const TEXT: SqlType = { family: "text", name: "text", dims: 0 };
export const INT8: SqlType = { family: "int", name: "int8", dims: 0 };
export const INT4: SqlType = { family: "int", name: "int4", dims: 0 };
export const NUMERIC: SqlType = { family: "numeric", name: "numeric", dims: 0 };
export const FLOAT8: SqlType = { family: "float", name: "float8", dims: 0 };

export function describeType(type: SqlType): string {
  return type.dims > 0 ? `${type.name}[]` : type.name;
}

export class ValueSyntaxError extends Error {
  override name = "ValueSyntaxError";
}

const INT_PATTERN = /^\s*[+-]?\d+\s*$/;
const NUMBER_PATTERN =
  /^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(infinity|inf)|nan)\s*$/i;
const UUID_PATTERN =
  /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
const DATE_PATTERN = /^\s*(\d{4,})-(\d{1,2})-(\d{1,2})(\s+BC)?\s*$/i;
const TIMESTAMP_PATTERN =
  /^\s*(\d{4,})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2})?(?::?\d{2})?)?(\s+BC)?\s*$/i;

const TIME_PATTERN = /^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*$/;

/**
 * Microseconds of a fraction. Postgres rounds digits beyond the sixth; refusing them keeps the
 * evaluator from ever disagreeing with it.
 */
function fractionMicros(digits: string | undefined, text: string): bigint {
  if (!digits) return 0n;
  if (digits.length > 6)
    throw new ValueSyntaxError(
      `fractional seconds beyond microseconds are not supported: "${text}"`,
    );
  return BigInt(digits.padEnd(6, "0"));
}

/** Bounds of each integer type, and the name Postgres' range errors use for it. */
export const INT_RANGES: Record<string, [bigint, bigint, string]> = {
  int2: [-(2n ** 15n), 2n ** 15n - 1n, "smallint"],
  int4: [-(2n ** 31n), 2n ** 31n - 1n, "integer"],
  int8: [-(2n ** 63n), 2n ** 63n - 1n, "bigint"],
};

/** Parses Postgres text input/output of one scalar of `type`. */
export function parseScalar(text: string, type: SqlType): Scalar {
  const fail = (): never => {
    throw new ValueSyntaxError(
      `invalid input syntax for type ${type.name}: "${text}"`,
    );
  };
  switch (type.family) {
    case "int": {
      if (!INT_PATTERN.test(text)) return fail();
      const value = BigInt(text.trim());
      const range = INT_RANGES[type.name] ?? INT_RANGES.int8;
      if (range && (value < range[0] || value > range[1]))
        throw new ValueSyntaxError(
          `value "${text}" is out of range for type ${type.name}`,
        );
      return value;
    }
    case "float": {
      if (!NUMBER_PATTERN.test(text)) return fail();
      const trimmed = text.trim().toLowerCase();
      let value: number;
      if (trimmed === "nan") value = NaN;
      else if (/^[+]?inf/.test(trimmed)) value = Infinity;
      else if (trimmed.startsWith("-inf")) value = -Infinity;
      else value = Number(trimmed);
      if (type.name === "float4") {
        const single = Math.fround(value);
        if (Number.isFinite(value) && !Number.isFinite(single))
          throw new ValueSyntaxError(`"${text}" is out of range for type real`);
        return single;
      }
      return value;
    }
    case "numeric":
      return Decimal.parse(text) ?? fail();
    case "bool": {
      const value = text.trim().toLowerCase();
      if (["t", "true", "y", "yes", "on", "1"].includes(value)) return true;
      if (["f", "false", "n", "no", "off", "0"].includes(value)) return false;
      return fail();
    }
    case "uuid": {
      const match = UUID_PATTERN.exec(text.trim());
      if (!match) return fail();
      return match.slice(1, 6).join("-").toLowerCase();
    }
    case "date": {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === "infinity") return Infinity;
      if (trimmed === "-infinity") return -Infinity;
      const match = DATE_PATTERN.exec(text);
      if (!match) return fail();
      return daysFromCivil(
        yearOf(match[1], match[4]),
        Number(match[2]),
        Number(match[3]),
        fail,
      );
    }
    case "timestamp":
    case "timestamptz": {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === "infinity") return TIMESTAMP_INFINITY;
      if (trimmed === "-infinity") return TIMESTAMP_NEGATIVE_INFINITY;
      const match = TIMESTAMP_PATTERN.exec(text);
      if (!match) return fail();
      const days = daysFromCivil(
        yearOf(match[1], match[9]),
        Number(match[2]),
        Number(match[3]),
        fail,
      );
      const hours = Number(match[4] ?? 0);
      const minutes = Number(match[5] ?? 0);
      const seconds = Number(match[6] ?? 0);
      if (hours > 24 || minutes > 59 || seconds > 60) return fail();
      const micros = fractionMicros(match[7], text);
      let total =
        BigInt(days) * MICROS_PER_DAY +
        BigInt(hours * 3600 + minutes * 60 + seconds) * 1_000_000n +
        micros;
      // timestamp (without zone) ignores an offset; timestamptz subtracts it. Our sessions run
      // with TimeZone=UTC, so a timestamptz without an offset is UTC.
      if (type.family === "timestamptz" && match[8])
        total -= offsetMicros(match[8]);
      return total;
    }
    case "time": {
      // Only the HH:MM[:SS[.ffffff]] form (Postgres' output); other spellings Postgres accepts
      // ('04:05 PM', 'allballs') are refused rather than misread.
      const match = TIME_PATTERN.exec(text);
      if (!match) return fail();
      const hours = Number(match[1]);
      const minutes = Number(match[2]);
      const seconds = Number(match[3] ?? 0);
      const micros = fractionMicros(match[4], text);
      if (minutes > 59 || seconds > 59) return fail();
      if (hours > 24 || (hours === 24 && (minutes || seconds || micros)))
        throw new ValueSyntaxError(
          `date/time field value out of range: "${text}"`,
        );
      return (
        BigInt(hours * 3600 + minutes * 60 + seconds) * 1_000_000n + micros
      );
    }
    case "interval": {
      const value = Interval.parse(text);
      if (!value)
        throw new ValueSyntaxError(
          `interval "${text}" is not in a supported form: use ISO 8601 ('P1DT2H') or 'N unit' ('1 day 02:00:00', '3 hours ago'), whole numbers except seconds`,
        );
      return value;
    }
    case "text":
    case "enum":
    case "unknown":
      return text;
  }
}

function yearOf(digits: string | undefined, bc: string | undefined): number {
  const year = Number(digits);
  return bc ? 1 - year : year;
}

function offsetMicros(zone: string): bigint {
  const match = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zone);
  if (!match) return 0n;
  const seconds =
    BigInt(match[2] ?? 0) * 3600n +
    BigInt(match[3] ?? 0) * 60n +
    BigInt(match[4] ?? 0);
  return (match[1] === "-" ? -1n : 1n) * seconds * 1_000_000n;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm). */
function daysFromCivil(
  year: number,
  month: number,
  day: number,
  fail: () => never,
): number {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    return fail();
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2)
    return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses a Postgres value (array literal when `type.dims > 0`) from its text form. */
export function parseValue(text: string | null, type: SqlType): Value {
  if (text === null) return null;
  if (type.dims === 0) return parseScalar(text, type);
  const element: SqlType = { ...type, dims: 0 };
  return parseArrayLiteral(text, (item) =>
    item === null ? null : parseScalar(item, element),
  );
}

/** Parses `{1,2,{3,NULL}}` / `{"a b",c}` into nested arrays (Postgres array output syntax). */
export function parseArrayLiteral(
  text: string,
  parseItem: (item: string | null) => Value,
): Value[] {
  let position = 0;
  const source = text.trim().replace(/^\[[^\]]*\](\[[^\]]*\])*=/, "");
  const fail = (): never => {
    throw new ValueSyntaxError(`malformed array literal: "${text}"`);
  };
  const parseLevel = (): Value[] => {
    if (source[position] !== "{") return fail();
    position++;
    const items: Value[] = [];
    if (source[position] === "}") {
      position++;
      return items;
    }
    for (;;) {
      while (source[position] === " ") position++;
      if (source[position] === "{") items.push(parseLevel());
      else if (source[position] === '"') {
        position++;
        let item = "";
        while (position < source.length && source[position] !== '"') {
          if (source[position] === "\\") position++;
          item += source[position] ?? "";
          position++;
        }
        if (source[position] !== '"') return fail();
        position++;
        items.push(parseItem(item));
      } else {
        const start = position;
        while (
          position < source.length &&
          source[position] !== "," &&
          source[position] !== "}"
        )
          position++;
        const raw = source.slice(start, position).trim();
        if (raw === "") return fail();
        items.push(parseItem(raw.toUpperCase() === "NULL" ? null : raw));
      }
      while (source[position] === " ") position++;
      if (source[position] === ",") {
        position++;
        continue;
      }
      if (source[position] === "}") {
        position++;
        return items;
      }
      return fail();
    }
  };
  const result = parseLevel();
  if (source.slice(position).trim() !== "") fail();
  return result;
}
