/**
 * @repo/schema: the one description of the data the kit syncs and writes. Isomorphic: imports
 * zod only, so browsers, Node apps and the server share it.
 */
export * from "./doc-socket";
export * from "./docs";
export * from "./enums";
export * from "./inputs";
export * from "./limits";
export * from "./presence";
export * from "./rows";
export { SHAPE_PARSER } from "./shape-parser";
