/**
 * Standby status updates: how far the slot may advance.
 *
 * @see https://www.postgresql.org/docs/current/protocol-replication.html (Standby status update)
 */
import type { LogicalReplicationService } from "pg-logical-replication";

import { bigIntToLsn } from "../protocol/offset";

/**
 * Reports `lsn` to Postgres as written, flushed and applied: exactly `lsn`, the position up to
 * which everything has been processed (a commit's end LSN, or a keepalive's position).
 *
 * Exactly, because Postgres resends on the next connection every transaction whose commit
 * record starts at or after the confirmed position: a commit often starts right where the
 * previous one ended, and one byte more skips it for good. And a fast shutdown waits until the
 * reported position equals the one it sent.
 *
 * pg-logical-replication's `acknowledge(lsn)` sends `lsn + 1` (it takes its argument as the
 * last byte received), so it is given one less. `confirm.test.ts` pins the bytes it sends.
 */
export function confirmExactly(
  service: LogicalReplicationService,
  lsn: bigint,
): void {
  if (lsn <= 0n) return;
  void service.acknowledge(bigIntToLsn(lsn - 1n));
}
