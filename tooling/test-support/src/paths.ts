import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// From the string, not `new URL(…)`: DOM test environments replace the global URL class, which
// node:url then refuses.
const here = dirname(fileURLToPath(import.meta.url));

export const repoRoot = resolve(here, "../../..");
export const migrationsDir = join(repoRoot, "prisma/migrations");
export const schemaPath = join(repoRoot, "prisma/schema.prisma");
