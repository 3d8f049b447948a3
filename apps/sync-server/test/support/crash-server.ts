/**
 * A sync server in a process of its own, for tests that kill it with SIGKILL: no graceful
 * stop runs, so nothing is synced or confirmed on the way out, as in a crash. Started by
 * `startCrashableServer` below (Node with tsx as loader); prints one JSON line `{"url": …}` once it listens.
 *
 * node --import tsx test/support/crash-server.ts '<SyncServerOptions as JSON>' [info|warn]
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";

import type { LogLevel } from "../../src/logger";
import type { SyncServerOptions } from "../../src/server";
import { createLogger } from "../../src/logger";
import { startSyncServer } from "../../src/server";

type ChildOptions = Omit<SyncServerOptions, "logger">;

export interface CrashableServer {
  url: string;
  /** Kills the process with SIGKILL and waits for it to be gone. */
  kill(): Promise<void>;
  /** The exit code (or signal) once the process has ended by itself or been killed; else null. */
  exitStatus(): string | null;
}

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const self = fileURLToPath(import.meta.url);

/**
 * `onOutput` receives the server's log (JSON lines, from `info` up; without it only warnings
 * and errors are logged, and dropped).
 */
export async function startCrashableServer(
  options: ChildOptions,
  onOutput?: (text: string) => void,
): Promise<CrashableServer> {
  const level: LogLevel = onOutput ? "info" : "warn";
  // tsx as a loader, not its CLI: the CLI runs the script in a grandchild that SIGKILL would
  // leave running (and holding the replication slot).
  const child = spawn(
    process.execPath,
    ["--import", "tsx", self, JSON.stringify(options), level],
    { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  if (onOutput) {
    child.stdout.on("data", (chunk: Buffer) => onOutput(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => onOutput(chunk.toString()));
  }
  const exitStatus = () =>
    child.exitCode !== null || child.signalCode !== null
      ? (child.signalCode ?? String(child.exitCode))
      : null;
  const exited = new Promise<void>((resolve) => {
    if (exitStatus() !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const kill = async () => {
    if (exitStatus() === null) child.kill("SIGKILL");
    await exited;
  };
  try {
    const url = await readUrl(child);
    return { url, kill, exitStatus };
  } catch (error) {
    await kill();
    throw error;
  }
}

function readUrl(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => fail(new Error("the crashable server did not start within 30 s")),
      30_000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\n${stderr}`));
    };
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      // Log lines (JSON too) may come first, e.g. while it waits for the slot.
      const line = stdout
        .split("\n")
        .find((text) => text.startsWith('{"url":'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code, signal) =>
      fail(
        new Error(
          `the crashable server exited (${signal ?? String(code)}) before listening`,
        ),
      ),
    );
  });
}

async function main(
  raw: string | undefined,
  level: string | undefined,
): Promise<void> {
  if (!raw) throw new Error("usage: crash-server.ts '<options as JSON>'");
  const options = JSON.parse(raw) as ChildOptions;
  const server = await startSyncServer({
    ...options,
    logger: createLogger(level === "info" ? "info" : "warn"),
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
}

if (process.argv[1] === self) {
  main(process.argv[2], process.argv[3]).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
