/**
 * Every variable an env.ts declares is passed through by turbo (its strict env mode drops the
 * others) and documented in .env.example.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";

const envFiles = ["apps", "packages", "tooling"]
  .flatMap((dir) => readdirSync(dir).map((name) => `${dir}/${name}/src/env.ts`))
  .concat("scripts/env.ts", "apps/sync-server/test/support/env.ts")
  .filter((file) => existsSync(file));
const declared = new Set(
  envFiles.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map(
      (m) => m[1] ?? "",
    ),
  ),
);
const turbo = JSON.parse(readFileSync("turbo.json", "utf8")) as {
  globalEnv: string[];
};
const example = readFileSync(".env.example", "utf8");

it("finds the env modules", () => {
  expect(envFiles.length).toBeGreaterThanOrEqual(5);
  expect(declared).toContain("DATABASE_URL");
  expect(declared).toContain("TEST_ELECTRIC_URL");
});

it.each([...declared])(
  "%s is in turbo.json globalEnv and .env.example",
  (name) => {
    expect(turbo.globalEnv).toContain(name);
    expect(example).toMatch(new RegExp(`^${name}=`, "m"));
  },
);
