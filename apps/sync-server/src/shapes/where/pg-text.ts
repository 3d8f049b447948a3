/**
 * Postgres' text output of evaluator values (what `expr::text` gives under Electric's session
 * settings: DateStyle ISO, TimeZone UTC, extra_float_digits=1), for values computed in the
 * WHERE clause. Column values cast to text never come here: the row already has their text.
 */
import type { Scalar, SqlType } from "./types";
import { Decimal } from "./decimal";
import { Interval } from "./interval";
import {
  MICROS_PER_DAY,
  TIMESTAMP_INFINITY,
  TIMESTAMP_NEGATIVE_INFINITY,
} from "./time-units";

export function pgText(value: Scalar, type: SqlType): string {
  if (value instanceof Decimal || value instanceof Interval)
    return value.toString();
  if (typeof value === "boolean") return value ? "true" : "false";
  switch (type.family) {
    case "date":
      return typeof value === "number" ? dateText(value) : String(value);
    case "timestamp":
    case "timestamptz":
      return typeof value === "bigint"
        ? timestampText(value, type.family === "timestamptz")
        : String(value);
    case "time":
      return typeof value === "bigint" ? timeText(value) : String(value);
    case "float":
      return typeof value === "number"
        ? floatText(value, type.name === "float4")
        : String(value);
    default:
      return String(value);
  }
}

function dateText(days: number): string {
  if (days === Infinity) return "infinity";
  if (days === -Infinity) return "-infinity";
  const [year, month, day] = civilFromDays(days);
  return `${yearText(year)}-${two(month)}-${two(day)}${year <= 0 ? " BC" : ""}`;
}

function timestampText(micros: bigint, withZone: boolean): string {
  if (micros >= TIMESTAMP_INFINITY) return "infinity";
  if (micros <= TIMESTAMP_NEGATIVE_INFINITY) return "-infinity";
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const [year, month, day] = civilFromDays(Number(days));
  return `${yearText(year)}-${two(month)}-${two(day)} ${timeText(rest)}${withZone ? "+00" : ""}${year <= 0 ? " BC" : ""}`;
}

/** `HH:MM:SS` plus the fraction without trailing zeros. */
function timeText(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n)
    .toString()
    .padStart(6, "0")
    .replace(/0+$/, "");
  const hours = seconds / 3600n;
  const minutes = (seconds / 60n) % 60n;
  return `${two(Number(hours))}:${two(Number(minutes))}:${two(Number(seconds % 60n))}${fraction ? `.${fraction}` : ""}`;
}

/**
 * float8out/float4out with extra_float_digits > 0: the shortest digits that round-trip, in
 * fixed notation for decimal exponents -4 ≤ e < 15 (float4: < 6), else `d.ddde+XX`.
 */
function floatText(value: number, single: boolean): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa = "", exponentText = "0"] = shortest(value, single).split(
    "e",
  );
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const exponent = Number(exponentText);
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= (single ? 6 : 15)) {
    const fraction = digits.slice(1);
    const magnitude = Math.abs(exponent).toString().padStart(2, "0");
    return `${sign}${digits[0]}${fraction ? `.${fraction}` : ""}e${exponent < 0 ? "-" : "+"}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Shortest round-trip digits in exponential form (`1.5e-7`). */
function shortest(value: number, single: boolean): string {
  if (!single) return value.toExponential();
  for (let precision = 1; precision < 10; precision++) {
    const candidate = value.toExponential(precision - 1);
    if (Math.fround(Number(candidate)) === value)
      return candidate.replace(/\.?0+e/, "e");
  }
  return value.toExponential(8);
}

function yearText(year: number): string {
  return String(year <= 0 ? 1 - year : year).padStart(4, "0");
}

function two(value: number): string {
  return String(value).padStart(2, "0");
}

/** Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe -
      Math.floor(doe / 1460) +
      Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) /
      365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}
