/** A committed transaction as decoded from pgoutput, with values as Postgres text output. */
export type TupleText = Record<string, string | null>;

interface RelationColumnInfo {
  name: string;
  typeOid: number;
  typeMod: number;
}

export interface RelationInfo {
  oid: number;
  schema: string;
  name: string;
  columns: RelationColumnInfo[];
}

export type RowChange =
  | { kind: "insert"; relationOid: number; new: TupleText }
  | {
      kind: "update";
      relationOid: number;
      old: TupleText | null;
      new: TupleText;
    }
  | { kind: "delete"; relationOid: number; old: TupleText };

export interface Transaction {
  /** 32-bit transaction id from BEGIN, the number Electric puts in `headers.txids`. */
  xid: number;
  /** Commit LSN as a 64-bit integer: the `tx` part of this transaction's log offsets. */
  lsn: bigint;
  /** Row changes in commit order; `index` is the position used for op offsets. */
  changes: RowChange[];
  /** Relations truncated by this transaction. */
  truncated: number[];
}
