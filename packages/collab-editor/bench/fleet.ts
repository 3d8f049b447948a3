/**
 * The bench's client processes (client-runner.ts), forked per row: a row's clients spread over
 * them so that the measuring side is not one CPU-bound event loop applying every peer's every
 * keystroke. Every process is stopped by its PID, also when the row fails.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";

import type {
  ChildMessage,
  ClientConfig,
  ParentMessage,
  ProcessReport,
  TypingPlan,
} from "./protocol";
import { cpuProfileArgs } from "./cpu";
import { now } from "./protocol";

const RUNNER = fileURLToPath(new URL("./client-runner.ts", import.meta.url));
const CLOCK_SAMPLES = 20;

interface ClockCheck {
  /** Largest |child clock − parent clock| over the processes, from each one's fastest ping. */
  maxOffsetMs: number;
  /** The round trip of those pings: the offset is known to ± half of it. */
  maxRoundTripMs: number;
}

export interface Fleet {
  readonly pids: number[];
  /** Connects `clients` clients, spread evenly; their Yjs client ids. */
  connect(
    config: ClientConfig,
    document: string,
    clients: number,
  ): Promise<number[]>;
  checkClock(): Promise<ClockCheck>;
  type(plan: TypingPlan): Promise<ProcessReport[]>;
  /** Every process closed and exited (SIGTERM if busy, SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** `profileDir`: each client process writes a V8 CPU profile there (`--cpu-prof`) as it exits. */
export function startFleet(processes: number, profileDir?: string): Fleet {
  const execArgv = ["--import", "tsx", ...cpuProfileArgs(profileDir)];
  const children = Array.from({ length: processes }, () =>
    startChild(execArgv),
  );
  return {
    pids: children.map((child) => child.pid),
    async connect(config, document, clients) {
      const ids = await Promise.all(
        children.map(async (child, j) => {
          // Process j holds clients j, j + k, …: an even spread for any N.
          const count = Math.ceil((clients - j) / processes);
          if (count <= 0) return [];
          const answer = await child.ask(
            { type: "connect", config, document, count },
            "connected",
          );
          return answer.clientIds;
        }),
      );
      return ids.flat();
    },
    async checkClock() {
      let maxOffsetMs = 0;
      let maxRoundTripMs = 0;
      for (const child of children) {
        let best = { roundTrip: Infinity, offset: 0 };
        for (let i = 0; i < CLOCK_SAMPLES; i++) {
          const sent = now();
          const { at } = await child.ask({ type: "clock" }, "clock");
          const received = now();
          if (received - sent < best.roundTrip)
            best = {
              roundTrip: received - sent,
              offset: at - (sent + received) / 2,
            };
        }
        maxOffsetMs = Math.max(maxOffsetMs, Math.abs(best.offset));
        maxRoundTripMs = Math.max(maxRoundTripMs, best.roundTrip);
      }
      return { maxOffsetMs, maxRoundTripMs };
    },
    async type(plan) {
      const answers = await Promise.all(
        children.map((child) => child.ask({ type: "type", plan }, "report")),
      );
      return answers.map((answer) => answer.report);
    },
    async stop(graceMs = 10_000) {
      await Promise.all(children.map((child) => child.stop(graceMs)));
    },
  };
}

type Answer<T extends ChildMessage["type"]> = Extract<
  ChildMessage,
  { type: T }
>;

function startChild(execArgv: string[]) {
  const child: ChildProcess = fork(RUNNER, [], {
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pid = child.pid ?? -1;
  let waiter: {
    type: ChildMessage["type"];
    resolve: (message: ChildMessage) => void;
    reject: (error: Error) => void;
  } | null = null;
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure ??= error;
    waiter?.reject(failure);
    waiter = null;
  };
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      fail(new Error(`client process ${pid} exited (${signal ?? code})`));
      resolve();
    });
    child.once("error", (error) => {
      fail(error);
      resolve();
    });
  });
  child.on("message", (message: ChildMessage) => {
    if (message.type === "error")
      fail(new Error(`client process ${pid}: ${message.message}`));
    else if (waiter?.type === message.type) {
      waiter.resolve(message);
      waiter = null;
    } else fail(new Error(`client process ${pid}: unexpected ${message.type}`));
  });

  const ask = <T extends ChildMessage["type"]>(
    message: ParentMessage,
    type: T,
  ): Promise<Answer<T>> => {
    if (failure) return Promise.reject(failure);
    // One question at a time per process: the runner answers in order.
    return new Promise((resolve, reject) => {
      waiter = {
        type,
        resolve: (answer) => resolve(answer as Answer<T>),
        reject,
      };
      child.send(message);
    });
  };

  const stop = async (graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    if (waiter === null && failure === null && child.connected)
      await ask({ type: "close" }, "closed").catch(() => undefined);
    else child.kill("SIGTERM");
    await exited;
    clearTimeout(timer);
  };

  return { pid, ask, stop };
}
