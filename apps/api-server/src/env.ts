/** The api server's environment, validated once (the only file that reads process.env). */
import { z } from "zod";

import type { ElectricOptions } from "@repo/api";

const Env = z.object({
  /**
   * Electric (or the kit's sync server), with its secret: the relay of collaborative edits
   * then reads each followed document's log, so it carries every commit, this process' or not.
   */
  ELECTRIC_URL: z.url().optional(),
  ELECTRIC_SECRET: z.string().min(1).optional(),
  /** Electric Cloud's source id. */
  ELECTRIC_SOURCE_ID: z.string().min(1).optional(),
});

const env = Env.parse(process.env);

export const electric: ElectricOptions | undefined =
  env.ELECTRIC_URL && env.ELECTRIC_SECRET
    ? {
        url: env.ELECTRIC_URL,
        secret: env.ELECTRIC_SECRET,
        ...(env.ELECTRIC_SOURCE_ID && { sourceId: env.ELECTRIC_SOURCE_ID }),
      }
    : undefined;
