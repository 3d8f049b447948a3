/**
 * Starts the server (`src/main.ts`) in its own Node process (one process, no tsx wrapper, so
 * the PID we stop is the server) and resolves once it listens. Used by the tests and the bench.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface ServerProcess {
  url: string;
  pid: number;
  /** SIGTERM to the PID; resolves when the process has exited. */
  stop(): Promise<void>;
}

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export async function startServerProcess(
  databaseUrl: string,
  extraArgs: string[] = [],
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      ...nodeArgs,
      "src/main.ts",
      databaseUrl,
      "0",
      ...extraArgs,
    ],
    { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start the API server");
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve()),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening (\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) =>
      reject(
        new Error(
          `API server exited (${code ?? "signal"}) before listening:\n${stderr}`,
        ),
      ),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null)
        process.kill(pid, "SIGTERM");
      await exited;
    },
  };
}
