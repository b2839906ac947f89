// The NodeError a coordinator call fails with, for unit tests of the node.
import { NodeError } from "../../src/node/errors.ts";

/** Awaits `call` and returns the NodeError it failed with; a success or any other error fails the test. */
export async function failureOf(call: Promise<unknown>): Promise<NodeError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof NodeError) return error;
    throw error;
  }
  throw new Error("the call succeeded; a failure was expected");
}
