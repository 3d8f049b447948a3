/**
 * Settings of the conformance suite's parity mode and of the stress test (the only test file
 * that reads process.env).
 * Dedicated TEST_* names, not ELECTRIC_URL/DATABASE_URL: a shell with the app's variables set
 * must never turn `pnpm test` into a run against its development database.
 */
import { createEnv } from "@t3-oss/env-core";
import { z } from "zod";

export const parityEnv = createEnv({
  server: {
    /** Base URL of an external Electric (`http://host:3000`): the suite runs against it. */
    TEST_ELECTRIC_URL: z.url().optional(),
    /** The database that Electric replicates from; tests create their tables there. */
    TEST_ELECTRIC_DATABASE_URL: z.url().optional(),
    /** Electric's ELECTRIC_SECRET, when it runs with one. */
    TEST_ELECTRIC_SECRET: z.string().min(1).optional(),
  },
  runtimeEnv: process.env,
  // The React test runs in jsdom, where env-core would take the window for a browser.
  isServer: true,
  emptyStringAsUndefined: true,
});

/** Replays a stress run (`TEST_STRESS_SEED`, printed by a failure) or runs it longer. */
export const stressEnv = createEnv({
  server: {
    TEST_STRESS_SEED: z.coerce.number().int().nonnegative().optional(),
    /** Seconds of writing per stress case (default 12). */
    TEST_STRESS_SECONDS: z.coerce.number().positive().max(600).optional(),
  },
  runtimeEnv: process.env,
  isServer: true,
  emptyStringAsUndefined: true,
});

/** This process's environment plus `extra`, for the child processes of `run-parity.ts`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
