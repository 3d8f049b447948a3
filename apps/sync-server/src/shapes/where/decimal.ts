/**
 * Exact `numeric` values for the WHERE evaluator: an integer `digits` scaled by 10^-scale, plus
 * Postgres' NaN and ±Infinity. Comparisons are exact (no 0.1 + 0.2 or 2^53 surprises), and
 * + - * / % follow Postgres' numeric rules, including the result's display scale (`scale`),
 * so a value cast to text prints as Postgres prints it.
 */
export type DecimalSpecial = "NaN" | "Infinity" | "-Infinity";

const NUMERIC_PATTERN = /^\s*([+-])?(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\s*$/;
/** Postgres' select_div_scale: at least 16 significant digits, at most 1000 decimals. */
const MIN_SIG_DIGITS = 16;
const MAX_DISPLAY_SCALE = 1000;
/** Exponents beyond numeric's range; Postgres rejects them too. */
const MAX_EXPONENT = 1000;

export class DecimalError extends Error {
  override name = "DecimalError";
}

export class Decimal {
  private constructor(
    /** The value times 10^scale (0 for the special values). */
    readonly digits: bigint,
    /** Display scale: decimals Postgres prints. */
    readonly scale: number,
    readonly special?: DecimalSpecial,
  ) {}

  static readonly NaN = new Decimal(0n, 0, "NaN");
  static readonly Infinity = new Decimal(0n, 0, "Infinity");
  static readonly NegativeInfinity = new Decimal(0n, 0, "-Infinity");

  /** Postgres numeric input; undefined when the text is not a number. */
  static parse(text: string): Decimal | undefined {
    const trimmed = text.trim().toLowerCase();
    if (trimmed === "nan") return Decimal.NaN;
    if (["infinity", "+infinity", "inf", "+inf"].includes(trimmed))
      return Decimal.Infinity;
    if (["-infinity", "-inf"].includes(trimmed))
      return Decimal.NegativeInfinity;
    const match = NUMERIC_PATTERN.exec(text);
    if (!match) return undefined;
    const [whole = "", fraction = ""] = (match[2] ?? "").split(".");
    const exponent = Number(match[3] ?? 0);
    if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
    let digits = BigInt(`${whole}${fraction}` || "0");
    let scale = fraction.length - exponent;
    if (scale < 0) {
      digits *= 10n ** BigInt(-scale);
      scale = 0;
    }
    return new Decimal(match[1] === "-" ? -digits : digits, scale);
  }

  static fromBigInt(value: bigint): Decimal {
    return new Decimal(value, 0);
  }

  /**
   * float8 → numeric the way Postgres converts it: through `%.15g` (float4: `%.6g`), so
   * 0.1 + 0.2 becomes 0.3, not 0.30000000000000004.
   */
  static fromFloat(value: number, significantDigits = 15): Decimal {
    if (Number.isNaN(value)) return Decimal.NaN;
    if (value === Infinity) return Decimal.Infinity;
    if (value === -Infinity) return Decimal.NegativeInfinity;
    const [mantissa = "0", exponent = "0"] = value
      .toExponential(significantDigits - 1)
      .split("e");
    // %g drops trailing zeros of the fraction.
    const trimmed = mantissa.includes(".")
      ? mantissa.replace(/0+$/, "").replace(/\.$/, "")
      : mantissa;
    return Decimal.parse(`${trimmed}e${exponent}`) ?? Decimal.NaN;
  }

  /** Postgres' numeric ordering: NaN above everything (and equal to itself), then +Infinity. */
  compare(other: Decimal): number {
    const rank = (value: Decimal) =>
      value.special === "NaN"
        ? 2
        : value.special === "Infinity"
          ? 1
          : value.special === "-Infinity"
            ? -1
            : 0;
    const a = rank(this);
    const b = rank(other);
    if (a !== 0 || b !== 0) return a - b;
    const scale = Math.max(this.scale, other.scale);
    const x = this.rescaled(scale);
    const y = other.rescaled(scale);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  negate(): Decimal {
    if (this.special === "Infinity") return Decimal.NegativeInfinity;
    if (this.special === "-Infinity") return Decimal.Infinity;
    if (this.special) return this;
    return new Decimal(-this.digits, this.scale);
  }

  add(other: Decimal): Decimal {
    if (this.special || other.special) {
      if (this.special === "NaN" || other.special === "NaN") return Decimal.NaN;
      if (this.special && other.special && this.special !== other.special)
        return Decimal.NaN;
      return this.special ? this : other;
    }
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescaled(scale) + other.rescaled(scale), scale);
  }

  subtract(other: Decimal): Decimal {
    return this.add(other.negate());
  }

  multiply(other: Decimal): Decimal {
    if (this.special || other.special) {
      if (this.special === "NaN" || other.special === "NaN") return Decimal.NaN;
      const sign = this.sign() * other.sign();
      if (sign === 0) return Decimal.NaN; // 0 × ±Infinity
      return sign > 0 ? Decimal.Infinity : Decimal.NegativeInfinity;
    }
    return new Decimal(this.digits * other.digits, this.scale + other.scale);
  }

  /** Division rounded to Postgres' result scale (`select_div_scale`), half away from zero. */
  divide(other: Decimal): Decimal {
    // numeric_div: NaN wins even over a zero divisor.
    if (this.special === "NaN" || other.special === "NaN") return Decimal.NaN;
    if (other.isZero()) throw new DecimalError("division by zero");
    if (this.special || other.special) {
      if (this.special && other.special) return Decimal.NaN;
      if (other.special) return new Decimal(0n, 0);
      return this.sign() * other.sign() > 0
        ? Decimal.Infinity
        : Decimal.NegativeInfinity;
    }
    const scale = divisionScale(this, other);
    // this / other = (d1 / 10^s1) / (d2 / 10^s2); the result times 10^scale:
    const shift = other.scale + scale - this.scale;
    const numerator = this.digits * 10n ** BigInt(Math.max(shift, 0));
    const denominator = other.digits * 10n ** BigInt(Math.max(-shift, 0));
    return new Decimal(roundedQuotient(numerator, denominator), scale);
  }

  /** Postgres' numeric `%`: the remainder of truncated division, with the larger scale. */
  modulo(other: Decimal): Decimal {
    if (this.special === "NaN" || other.special === "NaN") return Decimal.NaN;
    if (other.isZero()) throw new DecimalError("division by zero");
    if (this.special) return Decimal.NaN;
    if (other.special) return this;
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescaled(scale) % other.rescaled(scale), scale);
  }

  /** numeric → integer: Postgres rounds half away from zero. */
  toBigInt(): bigint {
    if (this.special)
      throw new DecimalError(`cannot convert ${this.special} to integer`);
    return roundedQuotient(this.digits, 10n ** BigInt(this.scale));
  }

  /** numeric → float8 (correctly rounded, like Postgres' strtod of the text). */
  toNumber(): number {
    if (this.special === "NaN") return NaN;
    if (this.special === "Infinity") return Infinity;
    if (this.special === "-Infinity") return -Infinity;
    return Number(this.toString());
  }

  /** Postgres' numeric output: all `scale` decimals, no exponent. */
  toString(): string {
    if (this.special) return this.special;
    const negative = this.digits < 0n;
    const text = (negative ? -this.digits : this.digits)
      .toString()
      .padStart(this.scale + 1, "0");
    const whole = text.slice(0, text.length - this.scale);
    const fraction = text.slice(text.length - this.scale);
    return `${negative ? "-" : ""}${whole}${this.scale > 0 ? `.${fraction}` : ""}`;
  }

  private rescaled(scale: number): bigint {
    return this.digits * 10n ** BigInt(scale - this.scale);
  }

  private isZero(): boolean {
    return !this.special && this.digits === 0n;
  }

  private sign(): number {
    if (this.special === "Infinity") return 1;
    if (this.special === "-Infinity") return -1;
    return this.digits > 0n ? 1 : this.digits < 0n ? -1 : 0;
  }
}

/** `numerator / denominator` rounded half away from zero. */
function roundedQuotient(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (2n * n + d) / (2n * d);
  return negative ? -quotient : quotient;
}

/**
 * Postgres' `select_div_scale`: the quotient's weight is estimated from the leading base-10000
 * digits (numeric's storage base) of both operands, and the scale chosen to give at least 16
 * significant digits, never fewer decimals than either operand shows.
 */
function divisionScale(dividend: Decimal, divisor: Decimal): number {
  const [weight1, first1] = leadingGroup(dividend);
  const [weight2, first2] = leadingGroup(divisor);
  let quotientWeight = weight1 - weight2;
  if (first1 <= first2) quotientWeight--;
  let scale = MIN_SIG_DIGITS - quotientWeight * 4;
  scale = Math.max(scale, dividend.scale, divisor.scale, 0);
  return Math.min(scale, MAX_DISPLAY_SCALE);
}

/** Weight and value of the most significant non-zero base-10000 digit (0, 0 for zero). */
function leadingGroup(value: Decimal): [number, bigint] {
  const magnitude = value.digits < 0n ? -value.digits : value.digits;
  if (magnitude === 0n) return [0, 0n];
  // Align the decimal point to a group boundary: value = aligned × 10000^-(groupScale).
  const groupScale = Math.ceil(value.scale / 4);
  const aligned = magnitude * 10n ** BigInt(groupScale * 4 - value.scale);
  const groups = Math.ceil(aligned.toString().length / 4);
  const first = aligned / 10000n ** BigInt(groups - 1);
  return [groups - 1 - groupScale, first];
}
