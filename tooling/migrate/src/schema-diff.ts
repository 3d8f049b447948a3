/**
 * `prisma migrate diff` without Prisma's native schema engine.
 *
 * Why the wasm engine: the CLI spawns the native `schema-engine` binary, which cannot be
 * downloaded on our machines (no internet but the npm registry). The same engine ships on npm
 * compiled to WebAssembly (`@prisma/schema-engine-wasm`). It reaches a database only through a
 * driver adapter (`url` diff targets are rejected), and connects as soon as it is constructed.
 *
 * Workarounds for this wasm build with `@prisma/adapter-pg` 7.10:
 * - adapter-pg rejects Postgres' internal `"char"` type (OID 18), which the engine's catalog
 *   queries select (e.g. `pg_constraint.contype`); the engine wants those columns as Character.
 * - the engine wants adapter results as `{ ok, value | error }` objects, i.e. bound as
 *   `@prisma/driver-adapter-utils` does (not a dependency of ours, hence the small binder here).
 * - `engine.free()` does not dispose the adapter: we close the pool ourselves.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type {
  DiffParams,
  SchemaEngine,
} from "@prisma/schema-engine-wasm/schema_engine_bg";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

export interface DatabaseDiff {
  /** Whether the database differs from the schema (the engine's `--exit-code` 2). */
  hasChanges: boolean;
  /** SQL that brings the database to the schema (`-- This is an empty migration.` in sync). */
  script: string;
}

/** The SQL script that creates the schema in an empty database (`--from-empty --to-schema`). */
export async function schemaToSql(schemaPath: string): Promise<string> {
  const files = [
    { path: schemaPath, content: await readFile(schemaPath, "utf8") },
  ];
  const { stdout } = await runDiff(offlineFactory(), {
    from: { tag: "empty" },
    to: { tag: "schemaDatamodel", files },
  });
  return stdout ?? "";
}

/** What `prisma migrate diff --from-config-datasource --to-schema <schema> --script` prints. */
export async function diffDatabaseToSchema(opts: {
  databaseUrl: string;
  schemaPath: string;
}): Promise<DatabaseDiff> {
  const files = [
    { path: opts.schemaPath, content: await readFile(opts.schemaPath, "utf8") },
  ];
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1 });
  const charColumns = reportCharColumnsAsText(pool);
  const adapterPg = new PrismaPg(pool);
  try {
    const { exitCode, stdout } = await runDiff(
      (errors) => ({
        connect: () =>
          errors.capture(async () =>
            bindAdapter(await adapterPg.connect(), errors, charColumns),
          ),
        connectToShadowDb: () =>
          errors.capture(() => Promise.reject(new Error("no shadow database"))),
      }),
      {
        // `schemaDatasource` is the database the adapter is connected to.
        from: {
          tag: "schemaDatasource",
          files,
          configDir: dirname(opts.schemaPath),
        },
        to: { tag: "schemaDatamodel", files },
      },
    );
    return { hasChanges: exitCode !== 0, script: stdout ?? "" };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;
type SqlQuery = Parameters<PgAdapter["queryRaw"]>[0];
type SqlResultSet = Awaited<ReturnType<PgAdapter["queryRaw"]>>;
type FactoryMethods = Record<
  "connect" | "connectToShadowDb",
  () => Promise<Outcome<object>>
>;

/** adapter-pg's column types the engine needs here (`ColumnTypeEnum` of driver-adapter-utils). */
const COLUMN_TYPE = { Int32: 0, Boolean: 5, Character: 6, Text: 7 } as const;
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/** JS errors handed to the engine by id, so its "External error id#N" can be mapped back. */
class ErrorRegistry {
  private readonly errors: unknown[] = [];

  async capture<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      // adapter-pg's DriverAdapterError carries a mapped error the engine understands.
      if (
        error instanceof Error &&
        error.name === "DriverAdapterError" &&
        typeof error.cause === "object"
      ) {
        return { ok: false, error: error.cause };
      }
      this.errors.push(error);
      return {
        ok: false,
        error: { kind: "GenericJs", id: this.errors.length - 1 },
      };
    }
  }

  original(error: unknown): unknown {
    const id =
      error instanceof Error
        ? /External error id#(\d+)/.exec(error.message)?.[1]
        : undefined;
    return id === undefined ? error : (this.errors[Number(id)] ?? error);
  }
}

/** The part of the WebAssembly global we use (our `lib` has no DOM/WebAssembly typings). */
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(
    module: object,
    imports: Record<string, object>,
  ): Promise<{ exports: Record<string, unknown> }>;
};

type EngineClass = typeof SchemaEngine;

const isCallable = (value: unknown): value is (...args: unknown[]) => unknown =>
  typeof value === "function";
let engineClass: Promise<EngineClass> | undefined;

/** Instantiates the wasm module once per process (wasm-bindgen keeps module-global state). */
function loadEngineClass(): Promise<EngineClass> {
  engineClass ??= (async () => {
    const bindings =
      await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const setWasm: unknown = Reflect.get(bindings, "__wbg_set_wasm");
    if (!isCallable(setWasm))
      throw new Error("unexpected @prisma/schema-engine-wasm layout");
    const require = createRequire(import.meta.url);
    const wasmPath = require
      .resolve("@prisma/schema-engine-wasm/schema_engine_bg")
      .replace(/\.js$/, ".wasm");
    const module = await WebAssembly.compile(await readFile(wasmPath));
    const instance = await WebAssembly.instantiate(module, {
      "./schema_engine_bg.js": bindings,
    });
    setWasm(instance.exports);
    const start: unknown = instance.exports.__wbindgen_start;
    if (isCallable(start)) start();
    // A Rust panic reports its message here before surfacing as "RuntimeError: unreachable".
    if (!Reflect.has(globalThis, "PRISMA_WASM_PANIC_REGISTRY")) {
      Reflect.set(globalThis, "PRISMA_WASM_PANIC_REGISTRY", {
        set_message: (message: string) =>
          console.error(`schema engine panicked: ${message}`),
      });
    }
    return bindings.SchemaEngine;
  })();
  return engineClass;
}

async function runDiff(
  factory: (errors: ErrorRegistry) => FactoryMethods,
  targets: Pick<DiffParams, "from" | "to">,
): Promise<{ exitCode: number; stdout: string | null }> {
  const errors = new ErrorRegistry();
  const adapterFactory = {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    ...factory(errors),
  };
  const Engine = await loadEngineClass();
  let engine: SchemaEngine;
  try {
    engine = await Engine.new(
      { datamodels: undefined },
      () => undefined,
      adapterFactory,
    );
  } catch (error) {
    throw errors.original(error);
  }
  try {
    return await engine.diff({
      ...targets,
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
  } catch (error) {
    throw errors.original(error);
  } finally {
    engine.free();
  }
}

/**
 * Makes adapter-pg accept `"char"` columns (it throws on OID 18) by reporting them as text, and
 * records which columns they were, by query text, for `bindAdapter` to retype as Character.
 */
function reportCharColumnsAsText(pool: pg.Pool): Map<string, number[]> {
  const charColumns = new Map<string, number[]>();
  const query = pool.query.bind(pool) as (
    ...args: unknown[]
  ) => Promise<pg.QueryResult>;
  Object.assign(pool, {
    query: async (...args: unknown[]): Promise<pg.QueryResult> => {
      const result = await query(...args);
      const columns: number[] = [];
      result.fields.forEach((field, index) => {
        if (field.dataTypeID !== PG_CHAR_OID) return;
        field.dataTypeID = PG_TEXT_OID;
        columns.push(index);
      });
      const config: unknown = args[0];
      const text =
        typeof config === "string" ? config : (config as pg.QueryConfig).text;
      if (columns.length > 0) charColumns.set(text, columns);
      return result;
    },
  });
  return charColumns;
}

/** The adapter as the engine calls it: every method returns an Outcome instead of throwing. */
function bindAdapter(
  adapter: PgAdapter,
  errors: ErrorRegistry,
  charColumns: Map<string, number[]>,
) {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query: SqlQuery) =>
      errors.capture(async (): Promise<SqlResultSet> => {
        const result = await adapter.queryRaw(query);
        const columnTypes = [...result.columnTypes];
        for (const index of charColumns.get(query.sql) ?? [])
          columnTypes[index] = COLUMN_TYPE.Character;
        return { ...result, columnTypes };
      }),
    executeRaw: (query: SqlQuery) =>
      errors.capture(() => adapter.executeRaw(query)),
    executeScript: (script: string) =>
      errors.capture(() => adapter.executeScript(script)),
    getConnectionInfo: (): Outcome<
      ReturnType<PgAdapter["getConnectionInfo"]>
    > => ({
      ok: true,
      value: adapter.getConnectionInfo(),
    }),
    dispose: () => errors.capture(() => adapter.dispose()),
  };
}

/**
 * For diffs that need no database: the engine still connects on construction, and only probes
 * the server (schema exists, version). Answer that probe and refuse anything else.
 */
function offlineFactory(): (errors: ErrorRegistry) => FactoryMethods {
  const refuse = (what: string) =>
    Promise.reject(new Error(`offline schema engine: ${what}`));
  return (errors) => {
    const adapter = {
      provider: "postgres",
      adapterName: "offline",
      queryRaw: (query: SqlQuery) =>
        errors.capture(async () => {
          if (!query.sql.includes("server_version_num"))
            return refuse(`unexpected query ${query.sql}`);
          return {
            columnNames: ["exists", "version", "numeric_version"],
            columnTypes: [
              COLUMN_TYPE.Boolean,
              COLUMN_TYPE.Text,
              COLUMN_TYPE.Int32,
            ],
            rows: [[true, "PostgreSQL 18.0 (offline)", 180000]],
          };
        }),
      executeRaw: () => errors.capture(() => refuse("executeRaw")),
      executeScript: () => errors.capture(() => refuse("executeScript")),
      getConnectionInfo: () => ({
        ok: true,
        value: { supportsRelationJoins: true },
      }),
      dispose: () => errors.capture(() => Promise.resolve()),
    };
    return {
      connect: () => errors.capture(() => Promise.resolve(adapter)),
      connectToShadowDb: () => errors.capture(() => refuse("shadow database")),
    };
  };
}
