/**
 * Value parsers to hand Electric's `ShapeStream`/`useShape` as `parser`, so shape rows have the
 * types of the row schemas. Electric already parses ints, floats, bools and json; timestamps
 * arrive as Postgres text (`2026-11-25 16:48:35.123+00`), which `Date` parses as is.
 *
 * @example
 * new ShapeStream({ url, params: { table: "issues" }, parser: SHAPE_PARSER,
 *   columnMapper: snakeCamelMapper() })
 */
export const SHAPE_PARSER = {
  timestamptz: (value: string): Date => new Date(value),
} as const;
