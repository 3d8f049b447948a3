/**
 * Log offsets `<tx>_<op>` (Electric `replication/log_offset.ex`).
 *
 * `tx` is 0 for the initial snapshot and the commit LSN (as a 64-bit integer) for replicated
 * transactions; `op` counts operations within the transaction in steps of 2 so that a
 * primary-key change can be split into a delete (`op`) and an insert (`op + 1`).
 * `op = Infinity` renders as `inf` and sorts after every real op of that tx.
 */
export interface LogOffset {
  readonly tx: bigint;
  readonly op: number;
}

export const BEFORE_ALL: LogOffset = { tx: -1n, op: 0 };
export const SNAPSHOT_END: LogOffset = { tx: 0n, op: Infinity };

const OFFSET_PATTERN = /^(0|[1-9]\d{0,19})_(0|[1-9]\d{0,15}|inf)$/;
const MAX_UINT64 = (1n << 64n) - 1n;

/** Parses a request offset; `-1` means "from the start"; returns undefined when malformed. */
export function parseOffset(text: string): LogOffset | undefined {
  if (text === "-1") return BEFORE_ALL;
  const match = OFFSET_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const tx = BigInt(match[1]);
  if (tx > MAX_UINT64) return undefined;
  const op = match[2] === "inf" ? Infinity : Number(match[2]);
  if (!Number.isSafeInteger(op) && op !== Infinity) return undefined;
  return { tx, op };
}

export function formatOffset(offset: LogOffset): string {
  if (offset.tx < 0n) return "-1";
  return `${offset.tx}_${offset.op === Infinity ? "inf" : offset.op}`;
}

export function compareOffsets(a: LogOffset, b: LogOffset): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  if (a.op === b.op) return 0;
  return a.op < b.op ? -1 : 1;
}

/** Postgres prints LSNs as `X/Y` (two 32-bit hex halves); Electric uses the 64-bit integer. */
export function lsnToBigInt(lsn: string): bigint {
  const [high, low] = lsn.split("/");
  if (high === undefined || low === undefined)
    throw new Error(`malformed LSN ${lsn}`);
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export function bigIntToLsn(value: bigint): string {
  const high = (value >> 32n).toString(16).toUpperCase();
  const low = (value & 0xffffffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}
