import type { ClientConfig } from "./protocol";

/** A system under test: its server side, started once in the parent, and how clients reach it. */
export interface BenchSystem {
  name: string;
  /** PIDs of its server processes, for their CPU time. */
  serverPids: (number | undefined)[];
  /** A new, empty document; its name for the clients. */
  newDocument(): Promise<string>;
  /** What a client process needs to connect; `relay`: ours follows `/docs/follow` too. */
  clientConfig(options: { relay: boolean }): ClientConfig;
  stop(): Promise<void>;
}
