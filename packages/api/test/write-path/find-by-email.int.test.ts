/**
 * `members.findByEmail`, the lookup behind "invite by email": only a project's managers learn
 * whether an email has an account, and which.
 */
import { expect } from "vitest";

import { failure, writePathTest } from "./scenario";

writePathTest(
  "a manager finds an account by its email (any case), and nobody else learns anything",
  async ({ db, scenario }) => {
    const { owner, member, viewer, outsider, projectId } = scenario;
    const account = await db.user.findUniqueOrThrow({
      where: { id: outsider.id },
      select: { email: true },
    });
    const email = account.email.toUpperCase();

    expect(
      await owner.caller.members.findByEmail({ projectId, email }),
    ).toEqual({ id: outsider.id, name: outsider.name });
    for (const user of [member, viewer])
      expect(
        (await failure(user.caller.members.findByEmail({ projectId, email })))
          .code,
      ).toBe("FORBIDDEN");
    // Not a member: the project itself is invisible.
    expect(
      (await failure(outsider.caller.members.findByEmail({ projectId, email })))
        .code,
    ).toBe("NOT_FOUND");

    const unknown = await failure(
      owner.caller.members.findByEmail({
        projectId,
        email: "nobody@example.com",
      }),
    );
    expect(unknown.code).toBe("NOT_FOUND");
    expect(unknown.message).toMatch(/nobody@example.com.*sign up/);
    expect(
      (
        await failure(
          owner.caller.members.findByEmail({
            projectId,
            email: "not-an-email",
          }),
        )
      ).code,
    ).toBe("BAD_REQUEST");
  },
);
