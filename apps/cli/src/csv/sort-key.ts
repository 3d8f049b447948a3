/**
 * Sort keys for issues the CLI creates. The order key format of fractional indexing (a head
 * letter giving the integer part's length, base-62 digits in ASCII order): "g" + 7 digits is a
 * valid key that sorts after the short "a…" keys lists start with, and a millisecond clock in
 * 7 base-62 digits lasts until 2081, so issues created later sort later.
 */
const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function timeSortKey(epochMs: number): string {
  let rest = Math.floor(epochMs);
  let digits = "";
  for (let i = 0; i < 7; i++) {
    digits = (DIGITS[rest % 62] ?? "0") + digits;
    rest = Math.floor(rest / 62);
  }
  return `g${digits}`;
}
