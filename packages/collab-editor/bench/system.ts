import type { ClientConfig, OurChannel } from "./protocol";

/** A system under test: its server side, started once in the parent, and how clients reach it. */
export interface BenchSystem {
  name: string;
  /** PIDs of its server processes, for their CPU time. */
  serverPids: (number | undefined)[];
  /** A new, empty document; its name for the clients. */
  newDocument(): Promise<string>;
  /** What a client process needs to connect; `channel`: how ours reaches the api. */
  clientConfig(options: { channel: OurChannel }): ClientConfig;
  stop(): Promise<void>;
}
