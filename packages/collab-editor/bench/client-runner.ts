/**
 * A client process of the keystroke bench (forked by fleet.ts with an IPC channel): holds some
 * of a row's clients so that no one event loop carries all of them, types its writers' share
 * and reports what it recorded. Commands and answers: protocol.ts. Exits when told to close or
 * when its parent goes away (the IPC channel closes).
 */
import type { Peer } from "./peer";
import type { ChildMessage, ParentMessage } from "./protocol";
import { connectFloor } from "./floor-client";
import { connectHocuspocus } from "./hocuspocus-client";
import { typeAndRecord } from "./keystrokes";
import { connectOurs } from "./our-client";
import { connectInTurn } from "./peer";
import { now } from "./protocol";

let peers: Peer[] = [];

const reply = (message: ChildMessage) =>
  new Promise<void>((resolve, reject) =>
    process.send?.(message, undefined, undefined, (error) =>
      error ? reject(error) : resolve(),
    ),
  );

async function handle(message: ParentMessage): Promise<void> {
  switch (message.type) {
    case "connect": {
      const { config, document, count } = message;
      peers =
        config.kind === "ours"
          ? await connectOurs(config, document, count)
          : config.kind === "floor"
            ? await connectInTurn(count, () =>
                connectFloor(config.url, document),
              )
            : await connectInTurn(count, () =>
                connectHocuspocus(config.url, document),
              );
      await reply({
        type: "connected",
        clientIds: peers.map((peer) => peer.doc.clientID),
      });
      return;
    }
    case "clock":
      await reply({ type: "clock", at: now() });
      return;
    case "type": {
      const cpuBefore = process.cpuUsage();
      const record = await typeAndRecord(peers, message.plan);
      const cpu = process.cpuUsage(cpuBefore);
      await reply({
        type: "report",
        report: { ...record, cpuMs: (cpu.user + cpu.system) / 1000 },
      });
      return;
    }
    case "close":
      await Promise.all(peers.map((peer) => peer.close()));
      peers = [];
      await reply({ type: "closed" });
      process.disconnect();
      return;
  }
}

process.on("message", (message: ParentMessage) => {
  handle(message).catch((error: unknown) => {
    void reply({
      type: "error",
      message:
        error instanceof Error ? (error.stack ?? error.message) : String(error),
    }).finally(() => process.exit(1));
  });
});
// The parent stopped (or died): nothing left to measure for.
process.on("disconnect", () => process.exit(0));
