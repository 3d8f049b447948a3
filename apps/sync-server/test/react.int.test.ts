// @vitest-environment jsdom
/**
 * `useShape` from the official `@electric-sql/react`, rendered by React in a DOM, follows a
 * shape served by this server: initial rows, then inserts, updates and deletes as they commit.
 */
import type { Row } from "@electric-sql/client";
import { useShape } from "@electric-sql/react";
import { cleanup, renderHook, waitFor } from "@testing-library/react";
import { expect } from "vitest";

import { syncTest } from "./support/fixture";

interface Todo extends Row {
  id: number;
  title: string;
  done: boolean;
}

const test = syncTest;
let todos = "";

test.beforeAll(async ({ h, table }) => {
  todos = await table(
    "todos (id int PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false)",
  );
  await h.sql.query(`
    INSERT INTO todos (id, title) VALUES (1, 'write the test'), (2, 'run it');
  `);
});

test.afterAll(() => {
  cleanup();
});

test("useShape renders the initial rows, then every committed change", async ({
  h,
}) => {
  const { result } = renderHook(() =>
    useShape<Todo>({
      url: h.shapeUrl,
      params: {
        table: todos,
        where: "done = $1",
        params: ["false"],
      },
    }),
  );
  const titles = () => result.current.data.map((todo) => todo.title).sort();

  await waitFor(() => expect(result.current.isLoading).toBe(false));
  expect(titles()).toEqual(["run it", "write the test"]);

  await h.write("INSERT INTO todos (id, title) VALUES (3, 'ship it')");
  await waitFor(() =>
    expect(titles()).toEqual(["run it", "ship it", "write the test"]),
  );

  await h.write("UPDATE todos SET title = 'run it twice' WHERE id = 2");
  await waitFor(() =>
    expect(titles()).toEqual(["run it twice", "ship it", "write the test"]),
  );

  // Moves out of the shape (done = true), and a delete.
  await h.write(
    "UPDATE todos SET done = true WHERE id = 1",
    "DELETE FROM todos WHERE id = 3",
  );
  await waitFor(() => expect(titles()).toEqual(["run it twice"]));
  expect(result.current.error).toBe(false);
});
