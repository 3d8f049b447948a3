import { describe, expect, it } from "vitest";

import { ClientOrder } from "./client-order";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("ClientOrder", () => {
  it("runs calls of one client that arrive together in id order, one at a time", async () => {
    const order = new ClientOrder();
    const events: string[] = [];
    const call = (id: number) =>
      order.run("a", id, async () => {
        events.push(`start ${id}`);
        await tick();
        events.push(`end ${id}`);
        return id;
      });
    const results = await Promise.all([call(3), call(1), call(2)]);
    expect(results).toEqual([3, 1, 2]);
    expect(events).toEqual([
      "start 1",
      "end 1",
      "start 2",
      "end 2",
      "start 3",
      "end 3",
    ]);
    expect(order.size).toBe(0);
  });

  it("runs different clients in parallel", async () => {
    const order = new ClientOrder();
    const events: string[] = [];
    const call = (client: string) =>
      order.run(client, 1, async () => {
        events.push(`start ${client}`);
        await tick();
        events.push(`end ${client}`);
      });
    await Promise.all([call("a"), call("b")]);
    expect(events.slice(0, 2).sort()).toEqual(["start a", "start b"]);
  });

  it("passes failures through and goes on with the next call", async () => {
    const order = new ClientOrder();
    const failing = order.run("a", 1, () => Promise.reject(new Error("no")));
    const next = order.run("a", 2, () => Promise.resolve("ok"));
    await expect(failing).rejects.toThrow("no");
    await expect(next).resolves.toBe("ok");
    expect(order.size).toBe(0);
  });

  it("queues a call that arrives while another of the client runs", async () => {
    const order = new ClientOrder();
    const events: number[] = [];
    const first = order.run("a", 5, async () => {
      await tick();
      events.push(5);
    });
    await new Promise((resolve) => setImmediate(resolve));
    const late = order.run("a", 4, async () => {
      events.push(4);
    });
    await Promise.all([first, late]);
    // 4 came after 5 had started: it runs after (and the mutation log refuses it).
    expect(events).toEqual([5, 4]);
  });
});
