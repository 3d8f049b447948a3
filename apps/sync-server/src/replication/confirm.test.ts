import { LogicalReplicationService } from "pg-logical-replication";
import { describe, expect, test } from "vitest";

import { confirmExactly } from "./confirm";

/** The standby status updates the library writes for `confirmExactly(lsn)`. */
function sentFor(lsn: bigint): Buffer[] {
  const service = new LogicalReplicationService({});
  const sent: Buffer[] = [];
  // The library's streaming state, as after START_REPLICATION (internal fields).
  Object.assign(service, {
    _stop: false,
    _connection: { sendCopyFromChunk: (chunk: Buffer) => sent.push(chunk) },
  });
  confirmExactly(service, lsn);
  return sent;
}

describe("confirmExactly", () => {
  test.each([
    0x1abb118n, // a commit end seen in the field
    0x1_0000_0000n, // low word zero: the library's carry
    0x2_ffff_ffffn,
    0xa_1234_5678n,
  ])("reports %s as written, flushed and applied, not a byte more", (lsn) => {
    const [message, ...more] = sentFor(lsn);
    expect(more).toEqual([]);
    expect(message?.length).toBe(34);
    expect(String.fromCharCode(message?.[0] ?? 0)).toBe("r");
    expect(message?.readBigUInt64BE(1)).toBe(lsn);
    expect(message?.readBigUInt64BE(9)).toBe(lsn);
    expect(message?.readBigUInt64BE(17)).toBe(lsn);
  });

  test("sends nothing for position 0 (nothing processed)", () => {
    expect(sentFor(0n)).toEqual([]);
  });
});
