/**
 * What the keystroke bench's parent (run.ts, fleet.ts) and its client processes
 * (client-runner.ts) say to each other over the fork IPC channel, and the clock both sides
 * share.
 */

/**
 * ms on the machine's monotonic clock (libuv's hrtime is CLOCK_MONOTONIC): one clock for every
 * process on the machine, so a time read in one client process compares with another's. Not
 * `performance.timeOrigin + performance.now()`: its origin is read from the wall clock when
 * each process starts, so processes started apart carry any step or slew of the wall clock
 * between their starts (one loaded run measured 4 ms between two of them). fleet.ts measures
 * the offset every row and fails above 1 ms.
 */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * How ours' clients reach the api: `socket`, calls and relayed updates over the api server's
 * collaborative-field socket; `relay`, calls over tRPC (HTTP) and the relay over SSE
 * (`/docs/follow`); `shape`, calls over tRPC and others' edits from the log's shape alone.
 */
export type OurChannel = "socket" | "relay" | "shape";

/** How a client process reaches the system under test (plain data: it crosses IPC). */
export type ClientConfig =
  | {
      kind: "ours";
      apiUrl: string;
      shapeUrl: string;
      secret: string;
      token: string;
      channel: OurChannel;
    }
  | { kind: "hocuspocus"; url: string }
  | { kind: "floor"; url: string };

export interface TypingPlan {
  /** `now()` of the first keystroke of writer 0. */
  startAt: number;
  paceMs: number;
  /** Keystrokes per writer. */
  keys: number;
  /** Yjs client ids of the row's writers, all processes; the index spaces their starts. */
  writerIds: number[];
  /** How long after its own last keystroke a process waits for its peers to hold everything. */
  drainMs: number;
}

export type ParentMessage =
  | { type: "connect"; config: ClientConfig; document: string; count: number }
  | { type: "clock" }
  | { type: "type"; plan: TypingPlan }
  | { type: "close" };

/** One process's clients' record of a row; times are ms after `plan.startAt`. */
export interface ProcessReport {
  writers: {
    clientId: number;
    /** By clock: when the keystroke was typed. */
    typedAt: number[];
    /** By clock: when it was due (the pace). */
    dueAt: number[];
    /** By clock (ours): when a `docs.update` call carrying it first left, and was answered. */
    sentAt?: (number | null)[];
    ackedAt?: (number | null)[];
  }[];
  peers: {
    clientId: number;
    /** Per writer (not this peer), by clock: when this peer's `Y.Doc` applied the keystroke. */
    arrivals: Record<string, (number | null)[]>;
    /** Ours with a relay (SSE or socket): per writer, by clock, when it brought it. */
    relayed?: Record<string, (number | null)[]>;
    textLength: number;
    textDigest: string;
  }[];
  /** ms of each `docs.update` round trip (ours). */
  calls: number[];
  /** CPU ms this process used from the `type` message to its report. */
  cpuMs: number;
}

export type ChildMessage =
  | { type: "connected"; clientIds: number[] }
  | { type: "clock"; at: number }
  | { type: "report"; report: ProcessReport }
  | { type: "closed" }
  | { type: "error"; message: string };
