/**
 * Message bodies as the official client parses them (`@electric-sql/client` types), built as
 * JSON text once when a change enters a shape log and then only concatenated into responses.
 */
import type { ControlMessage } from "@electric-sql/client";

type Operation = "insert" | "update" | "delete";

/** Column values are Postgres text output or null, exactly as Electric sends them. */
export type WireRow = Record<string, string | null>;

interface ChangeHeaders {
  operation: Operation;
  relation: [string, string];
  txids?: number[];
  lsn?: string;
  op_position?: number;
  last?: true;
  key_change_to?: string;
  key_change_from?: string;
}

export interface WireChange {
  key: string;
  value: WireRow;
  old_value?: WireRow;
  headers: ChangeHeaders;
}

export interface SnapshotInfo {
  xmin: string;
  xmax: string;
  xip_list: string[];
}

/** Callers keep the encoded bodies that include it (server.ts), so it is built once per write. */
export function upToDateMessage(globalLastSeenLsn: bigint): string {
  return JSON.stringify({
    headers: {
      control: "up-to-date",
      global_last_seen_lsn: globalLastSeenLsn.toString(),
    },
  } satisfies ControlMessage);
}

export function snapshotEndMessage(snapshot: SnapshotInfo): string {
  return JSON.stringify({ headers: { control: "snapshot-end", ...snapshot } });
}

export const MUST_REFETCH_BODY = JSON.stringify([
  { headers: { control: "must-refetch" } } satisfies ControlMessage,
]);
