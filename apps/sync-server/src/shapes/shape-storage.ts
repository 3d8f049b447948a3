/**
 * Where shape logs and their descriptions live.
 *
 * - `MemoryShapeStorage`: nothing survives a restart; handles are unique per start, so clients
 *   of old handles get 409 and refetch (never a gap).
 * - `DiskShapeStorage(dir)`: `<dir>/<handle>/log` (entries) and `meta.json` (definition,
 *   snapshot), and `<dir>/source`, the cluster/database/slot the logs came from. On restart, ready shapes are reopened and clients resume from their offset; the
 *   replication slot is only confirmed after logs are synced, so the stream replays whatever a
 *   log might lack, and each shape skips transactions it already holds.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

import type { ShapeDefinition } from "./definition";
import { FilePayloads, MemoryPayloads, ShapeLog } from "./shape-log";

export interface PersistedShape {
  /** 2: snapshot rows numbered by chunk (`0_<k>`); version 1 logs (by row) are discarded. */
  version: 2;
  handle: string;
  definition: ShapeDefinition;
  /** `oid:name:type:dims:pk` per column at creation; a mismatch at restore drops the shape. */
  tableSignature: string;
  state: "snapshotting" | "ready";
  snapshot?: { xmin: string; xmax: string; xip_list: string[] };
}

export interface RestoredShape {
  meta: PersistedShape;
  log: ShapeLog;
}

export interface ShapeStorage {
  readonly isPersistent: boolean;
  createLog(handle: string): ShapeLog;
  save(meta: PersistedShape): void;
  remove(handle: string): void;
  /**
   * Binds the storage to the stream it is fed from (cluster, database, slot). Stored shapes of
   * another source, or all of them when `replayLost` (the slot was created anew, so what happened
   * since the logs were written cannot be replayed), are discarded: their clients get 409 and
   * refetch instead of silently missing changes. Returns how many were discarded.
   */
  claim(source: string, replayLost: boolean): number;
  /** Shapes saved by a previous run (logs opened). */
  restore(): RestoredShape[];
  /**
   * Notes that the logs hold every transaction before `lsn` (called after they were synced and
   * before the slot is confirmed that far). A slot that later resumes past the last position
   * noted would skip transactions the logs lack.
   */
  recordPosition(lsn: bigint): void;
  /** The last position noted by any run; undefined if none was (or it cannot be read). */
  recordedPosition(): bigint | undefined;
}

export class MemoryShapeStorage implements ShapeStorage {
  readonly isPersistent = false;
  createLog(): ShapeLog {
    return new ShapeLog(new MemoryPayloads());
  }
  save(): void {
    // Memory logs are not described anywhere: they end with the process.
  }
  remove(): void {
    // The log is garbage once the shape is gone.
  }
  claim(): number {
    return 0;
  }
  restore(): RestoredShape[] {
    return [];
  }
  recordPosition(): void {
    // Nothing is restored from memory.
  }
  recordedPosition(): bigint | undefined {
    return undefined;
  }
}

const HANDLE_PATTERN = /^\d+-\d+$/;

export class DiskShapeStorage implements ShapeStorage {
  readonly isPersistent = true;
  private readonly logs = new Map<string, ShapeLog>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  createLog(handle: string): ShapeLog {
    const shapeDir = this.shapeDir(handle);
    mkdirSync(shapeDir, { recursive: true });
    const { store, offsets } = FilePayloads.open(join(shapeDir, "log"));
    const log = new ShapeLog(store, offsets);
    this.logs.set(handle, log);
    return log;
  }

  save(meta: PersistedShape): void {
    const shapeDir = this.shapeDir(meta.handle);
    mkdirSync(shapeDir, { recursive: true });
    // Write-then-rename: a crash leaves either the old or the new description, never half.
    const temporary = join(shapeDir, "meta.json.tmp");
    writeFileSync(temporary, JSON.stringify(meta));
    renameSync(temporary, join(shapeDir, "meta.json"));
  }

  remove(handle: string): void {
    this.logs.get(handle)?.close();
    this.logs.delete(handle);
    rmSync(this.shapeDir(handle), { recursive: true, force: true });
  }

  claim(source: string, replayLost: boolean): number {
    const file = join(this.dir, "source");
    let previous: string | undefined;
    try {
      previous = readFileSync(file, "utf8");
    } catch {
      previous = undefined;
    }
    let discarded = 0;
    if (replayLost || previous !== source) {
      for (const handle of readdirSync(this.dir)) {
        if (!HANDLE_PATTERN.test(handle)) continue;
        this.remove(handle);
        discarded++;
      }
    }
    writeFileSync(`${file}.tmp`, source);
    renameSync(`${file}.tmp`, file);
    return discarded;
  }

  restore(): RestoredShape[] {
    const restored: RestoredShape[] = [];
    for (const handle of readdirSync(this.dir)) {
      if (!HANDLE_PATTERN.test(handle)) continue;
      let meta: PersistedShape | undefined;
      try {
        meta = JSON.parse(
          readFileSync(join(this.shapeDir(handle), "meta.json"), "utf8"),
        ) as PersistedShape;
      } catch {
        meta = undefined;
      }
      if (
        meta?.version !== 2 ||
        meta.state !== "ready" ||
        meta.handle !== handle
      ) {
        this.remove(handle);
        continue;
      }
      restored.push({ meta, log: this.createLog(handle) });
    }
    return restored;
  }

  recordPosition(lsn: bigint): void {
    // Write-then-rename: a killed process leaves the old or the new position. Not fsynced: a
    // position lost with the page cache is an older one, which only makes the next start
    // discard the logs (409 to their clients) rather than trust them.
    const file = join(this.dir, "position");
    writeFileSync(`${file}.tmp`, lsn.toString());
    renameSync(`${file}.tmp`, file);
  }

  recordedPosition(): bigint | undefined {
    try {
      const text = readFileSync(join(this.dir, "position"), "utf8");
      return /^\d+$/.test(text) ? BigInt(text) : undefined;
    } catch {
      return undefined;
    }
  }

  private shapeDir(handle: string): string {
    if (!HANDLE_PATTERN.test(handle))
      throw new Error(`invalid handle ${handle}`);
    return join(this.dir, handle);
  }
}
