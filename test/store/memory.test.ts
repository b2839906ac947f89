// Holds the memory backend to the Backend contract.
import { describe } from "bun:test";
import { MemoryBackend } from "../../src/store/memory.ts";
import { backendContract } from "./conformance.ts";

describe("memory backend", () => {
  backendContract(async (options) => {
    const backend = new MemoryBackend(options);
    return { backend, [Symbol.asyncDispose]: () => backend.close() };
  }, { readsAtOnce: true });
});
