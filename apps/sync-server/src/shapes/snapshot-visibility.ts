/**
 * Postgres snapshots (`pg_current_snapshot()`, xid8 values) and the 32-bit xids of the
 * replication stream. A transaction visible in a shape's initial snapshot already has its
 * effects in the snapshot rows, so the stream must skip it; every other one must be applied.
 */
export interface PgSnapshot {
  xmin: bigint;
  xmax: bigint;
  xip: ReadonlySet<bigint>;
}

export function parsePgSnapshot(text: string): PgSnapshot {
  const [xmin, xmax, xip] = text.split(":");
  if (xmin === undefined || xmax === undefined)
    throw new Error(`malformed snapshot ${text}`);
  return {
    xmin: BigInt(xmin),
    xmax: BigInt(xmax),
    xip: new Set(
      (xip ?? "")
        .split(",")
        .filter((item) => item !== "")
        .map((item) => BigInt(item)),
    ),
  };
}

/**
 * Lifts a 32-bit xid to the 64-bit xid8 closest to `reference` (wraparound-safe, as the
 * client's snapshot tracker does).
 */
export function toXid8(xid: number, reference: bigint): bigint {
  return (
    reference + BigInt.asIntN(32, BigInt(xid) - BigInt.asUintN(32, reference))
  );
}

export function isVisibleInSnapshot(
  xid8: bigint,
  snapshot: PgSnapshot,
): boolean {
  return (
    xid8 < snapshot.xmin || (xid8 < snapshot.xmax && !snapshot.xip.has(xid8))
  );
}
