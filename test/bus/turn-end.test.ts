// The end of the turn shared by the bus's mergers and links: one pass for all, work scheduled during it included.
import { expect, test } from "bun:test";
import { turnEnd } from "../../src/bus/turn-end.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test("tasks run once, in order, after the turn, and what a task schedules runs in the same pass", async () => {
  const schedule = turnEnd();
  const ran: string[] = [];
  schedule(() => {
    ran.push("merge");
    // A merger's flush hands its calls to a link, which schedules its own flush: it must leave in this pass.
    schedule(() => ran.push("frame"));
  });
  schedule(() => ran.push("second merge"));
  expect(ran).toEqual([]);
  // An immediate queued after the pass was: it runs after it, so the pass is over when it does.
  await nextTurn();
  expect(ran).toEqual(["merge", "second merge", "frame"]);
  schedule(() => ran.push("later"));
  await nextTurn();
  expect(ran).toEqual(["merge", "second merge", "frame", "later"]);
});

test("a task that throws keeps none of the others from running; the first error is reported once the pass is over", async () => {
  const failures: unknown[] = [];
  const schedule = turnEnd((error) => failures.push(error));
  const ran: string[] = [];
  schedule(() => {
    throw new Error("first");
  });
  schedule(() => ran.push("after the first"));
  schedule(() => {
    throw new Error("second");
  });
  schedule(() => ran.push("last"));
  await nextTurn();
  expect(ran).toEqual(["after the first", "last"]);
  expect(failures.map((error) => (error as Error).message)).toEqual(["first"]);
  // The schedule still works after a failed pass.
  schedule(() => ran.push("next pass"));
  await nextTurn();
  expect(ran).toEqual(["after the first", "last", "next pass"]);
});
