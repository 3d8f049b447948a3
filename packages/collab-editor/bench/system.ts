import type { Peer } from "./keystrokes";

/** A system under test: a server side started once, and clients of one document. */
export interface BenchSystem {
  name: string;
  /** PIDs of its server processes, for their CPU time. */
  serverPids: (number | undefined)[];
  /** A new, empty document; its name for `connect`. */
  newDocument(): Promise<string>;
  /** A new client of `document`, loaded. */
  connect(document: string): Promise<Peer>;
  /** ms of each write call (client → committed → answer) since the last take, if it has them. */
  takeCalls?(): number[];
  stop(): Promise<void>;
}
