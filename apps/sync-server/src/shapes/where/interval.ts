/**
 * `interval` values for the WHERE evaluator, compared the way Postgres compares them: by
 * `interval_cmp_value`, i.e. months as 30 days and days as 24 hours, so '1 mon' = '30 days'
 * and '1 day' = '24 hours' (Electric compares the three fields structurally instead).
 *
 * Input: Postgres' ISO 8601 output (what rows carry under IntervalStyle=iso_8601) and, for
 * literals and params, the common `N unit … [HH:MM[:SS[.f]]] [ago]` spellings with whole
 * numbers (fractions only on seconds). Other spellings Postgres accepts are refused, not
 * guessed at.
 */
import { MICROS_PER_DAY, MICROS_PER_SECOND } from "./time-units";

const ISO_PATTERN =
  /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?)(\d+)(?:\.(\d{1,6}))?S)?)?$/;
const TIME_PATTERN = /^([+-])?(\d+):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;
const NUMBER_PATTERN = /^([+-]?\d+)(?:\.(\d{1,6}))?$/;

type Field = "months" | "days" | "micros";
/** Unit → the field it adds to, its factor, and the name Postgres allows only once. */
const UNITS: Record<string, [Field, bigint, string]> = {};
for (const [names, field, factor] of [
  [["year", "years"], "months", 12n],
  [["mon", "mons", "month", "months"], "months", 1n],
  [["week", "weeks"], "days", 7n],
  [["day", "days"], "days", 1n],
  [["hour", "hours"], "micros", 3600n * MICROS_PER_SECOND],
  [["min", "mins", "minute", "minutes"], "micros", 60n * MICROS_PER_SECOND],
  [["sec", "secs", "second", "seconds"], "micros", MICROS_PER_SECOND],
] as const)
  for (const name of names) UNITS[name] = [field, factor, names[0]];

export class Interval {
  constructor(
    readonly months: number,
    readonly days: number,
    readonly micros: bigint,
  ) {}

  /** The interval, or undefined when the text is not in a supported spelling. */
  static parse(text: string): Interval | undefined {
    const trimmed = text.trim();
    return trimmed.startsWith("P")
      ? parseIso(trimmed)
      : parseVerbose(trimmed.toLowerCase());
  }

  /** Postgres' `interval_cmp_value`. */
  get comparable(): bigint {
    return (
      (BigInt(this.months) * 30n + BigInt(this.days)) * MICROS_PER_DAY +
      this.micros
    );
  }

  compare(other: Interval): number {
    const a = this.comparable;
    const b = other.comparable;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Postgres' ISO 8601 interval output (IntervalStyle=iso_8601). */
  toString(): string {
    const years = Math.trunc(this.months / 12);
    const months = this.months % 12;
    const hours = this.micros / (3600n * MICROS_PER_SECOND);
    let rest = this.micros - hours * 3600n * MICROS_PER_SECOND;
    const minutes = rest / (60n * MICROS_PER_SECOND);
    rest -= minutes * 60n * MICROS_PER_SECOND;
    if (!years && !months && !this.days && this.micros === 0n) return "PT0S";
    const part = (value: number | bigint, designator: string) =>
      value ? `${value}${designator}` : "";
    let text = `P${part(years, "Y")}${part(months, "M")}${part(this.days, "D")}`;
    if (this.micros !== 0n) text += "T";
    text += `${part(hours, "H")}${part(minutes, "M")}`;
    if (rest !== 0n) {
      const magnitude = rest < 0n ? -rest : rest;
      const fraction = (magnitude % MICROS_PER_SECOND)
        .toString()
        .padStart(6, "0")
        .replace(/0+$/, "");
      text += `${rest < 0n ? "-" : ""}${magnitude / MICROS_PER_SECOND}${fraction ? `.${fraction}` : ""}S`;
    }
    return text;
  }
}

function parseIso(text: string): Interval | undefined {
  const match = ISO_PATTERN.exec(text);
  if (!match || text === "P" || text.endsWith("T")) return undefined;
  const int = (index: number) => Number(match[index] ?? 0);
  const seconds =
    BigInt(match[8] ?? 0) * MICROS_PER_SECOND +
    BigInt((match[9] ?? "").padEnd(6, "0") || "0");
  const micros =
    BigInt(int(5)) * 3600n * MICROS_PER_SECOND +
    BigInt(int(6)) * 60n * MICROS_PER_SECOND +
    (match[7] === "-" ? -seconds : seconds);
  return new Interval(int(1) * 12 + int(2), int(3) * 7 + int(4), micros);
}

function parseVerbose(text: string): Interval | undefined {
  const tokens = text.replace(/^@\s*/, "").split(/\s+/);
  let ago = false;
  if (tokens[tokens.length - 1] === "ago") {
    ago = true;
    tokens.pop();
  }
  if (tokens.length === 0 || tokens[0] === "") return undefined;
  const total: Record<Field, bigint> = { months: 0n, days: 0n, micros: 0n };
  // Postgres rejects a unit given twice ('1 day 1 day', '1 hour 02:00').
  const seen = new Set<string>();
  const once = (name: string) => {
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] ?? "";
    const time = TIME_PATTERN.exec(token);
    if (time) {
      if (!once("hour") || !once("min") || !once("sec")) return undefined;
      const micros =
        (BigInt(time[2] ?? 0) * 3600n +
          BigInt(time[3] ?? 0) * 60n +
          BigInt(time[4] ?? 0)) *
          MICROS_PER_SECOND +
        BigInt((time[5] ?? "").padEnd(6, "0") || "0");
      total.micros += time[1] === "-" ? -micros : micros;
      continue;
    }
    const number = NUMBER_PATTERN.exec(token);
    const unit = UNITS[tokens[index + 1] ?? ""];
    if (!number || !unit || !once(unit[2])) return undefined;
    index++;
    const [field, factor] = unit;
    const whole = BigInt(number[1] ?? 0);
    if (number[2] !== undefined) {
      // Fractions only where they stay exact and unambiguous: seconds.
      if (factor !== MICROS_PER_SECOND || field !== "micros") return undefined;
      const fraction = BigInt(number[2].padEnd(6, "0"));
      total.micros +=
        whole * MICROS_PER_SECOND +
        (number[1]?.startsWith("-") ? -fraction : fraction);
      continue;
    }
    total[field] += whole * factor;
  }
  const sign = ago ? -1n : 1n;
  return new Interval(
    Number(sign * total.months),
    Number(sign * total.days),
    sign * total.micros,
  );
}
