/**
 * @repo/collab: collaborative (Yjs) text fields on the client. Isomorphic: browsers, Node CLIs
 * and workers; y-indexeddb persistence in the `@repo/collab/indexeddb` subpath.
 */
export { createCollabProvider } from "./provider";
export type {
  CollabProvider,
  CollabProviderOptions,
  CollabStatus,
  DocPersistence,
  FollowDoc,
  LoadAnswer,
  LoadDoc,
  LogStream,
} from "./provider";
export { directLogShape, proxiedLogShape } from "./log-shape";
export { DocSocketError, docSocket } from "./doc-socket";
export type { DocChannel, DocSocketOptions, WebSocketLike } from "./doc-socket";
export { sseFollow } from "./follow";
export type {
  EventSourceConstructor,
  EventSourceLike,
  SseFollowOptions,
} from "./follow";
export type { LogShape, LogShapeRequest } from "./log-shape";
export { fromBase64, parseByteaHex, toBase64 } from "./bytes";
export { COLLAB_FIELDS, DOC_SOCKET_PATH, DOC_TEXT_NAME } from "@repo/schema";
export type { CollabFieldKey } from "@repo/schema";
