import type { PresenceCursor, RelativePositionJson } from "@repo/schema";
import { PresenceCursorSchema } from "@repo/schema";

interface YIdLike {
  client: number;
  clock: number;
}

interface RelativePositionLike {
  type?: YIdLike | null;
  tname?: string | null;
  item?: YIdLike | null;
  assoc?: number;
}

const id = (value: YIdLike | null | undefined) =>
  value ? { client: value.client, clock: value.clock } : null;

const position = (value: RelativePositionLike): RelativePositionJson => ({
  type: id(value.type),
  tname: value.tname ?? null,
  item: id(value.item),
  assoc: value.assoc ?? 0,
});

/**
 * The awareness `cursor` y-codemirror.next writes (`Y.RelativePosition` instances) as the JSON
 * the presence schema takes; anything else (no selection, a foreign shape) is null.
 */
export function toCursorJson(cursor: unknown): PresenceCursor {
  if (typeof cursor !== "object" || cursor === null) return null;
  const { anchor, head } = cursor as {
    anchor?: RelativePositionLike;
    head?: RelativePositionLike;
  };
  if (!anchor || !head) return null;
  const parsed = PresenceCursorSchema.safeParse({
    anchor: position(anchor),
    head: position(head),
  });
  return parsed.success ? parsed.data : null;
}
