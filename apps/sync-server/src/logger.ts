/** Structured logs: one JSON object per line on stdout (stderr for errors). */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
};

export function createLogger(level: LogLevel | "silent" = "info"): Logger {
  const threshold = level === "silent" ? Infinity : ORDER[level];
  const write = (
    at: LogLevel,
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    if (ORDER[at] < threshold) return;
    const line = JSON.stringify(
      { time: new Date().toISOString(), level: at, msg: message, ...fields },
      (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
    );
    (at === "error" || at === "warn" ? process.stderr : process.stdout).write(
      `${line}\n`,
    );
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}
