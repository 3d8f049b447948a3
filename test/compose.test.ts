/**
 * docker-compose.yml cannot run on our machines (no Docker engine), so this keeps its essentials
 * honest: the services, logical replication, how the secret and URLs are wired, health checks.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(readFileSync("docker-compose.yml", "utf8")) as Compose;
const dockerfile = readFileSync("apps/web/Dockerfile", "utf8");
const { postgres, electric, web, migrate } = compose.services;

/** Resolves `${VAR:-default}` and `${VAR:?message}` the way compose would with VAR unset. */
function withDefaults(value = ""): string {
  return value.replace(
    /\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g,
    (_match, name: string, fallback?: string) => fallback ?? `<${name}>`,
  );
}

describe("docker-compose.yml", () => {
  it("has postgres, electric, migrate and web", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "electric",
      "migrate",
      "postgres",
      "web",
    ]);
  });

  it("runs a current PostgreSQL with logical replication and a health check", () => {
    expect(postgres?.image).toMatch(/^postgres:(1[8-9]|[2-9]\d)/);
    const command = postgres?.command?.join(" ") ?? "";
    expect(command).toContain("wal_level=logical");
    expect(postgres?.healthcheck?.test.join(" ")).toContain("pg_isready");
    expect(postgres?.volumes).toContain("postgres-data:/var/lib/postgresql");
  });

  it("runs the official Electric image against that database, with a required secret", () => {
    expect(withDefaults(electric?.image)).toMatch(/^electricsql\/electric:/);
    const url = new URL(withDefaults(electric?.environment?.DATABASE_URL));
    expect(url.hostname).toBe("postgres");
    expect(url.pathname).toBe(`/${postgres?.environment?.POSTGRES_DB}`);
    expect(electric?.environment?.ELECTRIC_SECRET).toMatch(
      /^\$\{ELECTRIC_SECRET:\?/,
    );
    expect(electric?.environment).not.toHaveProperty("ELECTRIC_INSECURE");
    expect(electric?.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(electric).not.toHaveProperty("ports");
  });

  it("wires the app to Electric and the database, after migrations", () => {
    const env = web?.environment ?? {};
    expect(env.ELECTRIC_URL).toBe("http://electric:3000");
    expect(env.ELECTRIC_SECRET).toBe(electric?.environment?.ELECTRIC_SECRET);
    expect(new URL(withDefaults(env.DATABASE_URL)).hostname).toBe("postgres");
    expect(withDefaults(env.DATABASE_URL)).toBe(
      withDefaults(migrate?.environment?.DATABASE_URL),
    );
    expect(web?.depends_on?.migrate?.condition).toBe(
      "service_completed_successfully",
    );
    expect(web?.ports).toContain("3000:3000");
    expect(env.BETTER_AUTH_SECRET).toMatch(/^\$\{BETTER_AUTH_SECRET:\?/);
    expect(new URL(withDefaults(env.BETTER_AUTH_URL)).port).toBe(
      web?.ports?.[0]?.split(":")[0],
    );
    expect(web?.healthcheck?.test.join(" ")).toContain("fetch(");
  });

  it("gives the web app every variable its env.ts requires", () => {
    // The server keys of apps/web/src/env.ts that are neither optional nor defaulted.
    const envSource = readFileSync("apps/web/src/env.ts", "utf8");
    const server = /server: \{([\s\S]*?)\n  \},/.exec(envSource)?.[1] ?? "";
    const required = [...server.matchAll(/^ {4}(\w+): ([\s\S]*?),$/gm)]
      .filter(([, , schema]) => !/\.(optional|default)\(/.test(schema ?? ""))
      .map(([, name]) => name);
    expect(required).toContain("DATABASE_URL");
    expect(Object.keys(web?.environment ?? {})).toEqual(
      expect.arrayContaining(required),
    );
  });

  it("builds targets that exist in the Dockerfile, and declares every named volume", () => {
    for (const service of [web, migrate]) {
      expect(service?.build?.dockerfile).toBe("apps/web/Dockerfile");
      expect(dockerfile).toMatch(
        new RegExp(`^FROM .* AS ${service?.build?.target}$`, "m"),
      );
    }
    const used = Object.values(compose.services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(":")[0]);
    expect(Object.keys(compose.volumes).sort()).toEqual(
      [...new Set(used)].sort(),
    );
  });
});
