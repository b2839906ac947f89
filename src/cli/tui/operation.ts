// The data explorer's GET, SET and DEL against one node, each turned into one line of answer for the screen.
import { ClientError, type NodeClient } from "../../client/node-client.ts";
import { duration, printable } from "../format.ts";

export const OPERATIONS = ["GET", "SET", "DEL"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface Answer {
  readonly tone: "ok" | "missing" | "error";
  readonly text: string;
}

/** Runs one operation; never throws: a failure is an answer too. `clock` gives milliseconds, for the time shown. */
export async function perform(client: NodeClient, operation: Operation, key: string, value: string, clock: () => number = () => performance.now()): Promise<Answer> {
  const label = `${operation} ${JSON.stringify(printable(key))}`;
  if (key === "") return { tone: "error", text: `${operation}: type a key first` };
  const started = clock();
  const took = () => duration(clock() - started);
  try {
    switch (operation) {
      case "GET": {
        const answer = await client.get(key);
        if (answer === undefined) return { tone: "missing", text: `${label} → not found (${took()})` };
        return { tone: "ok", text: `${label} → ${JSON.stringify(printable(answer.value))} · via ${answer.nodeUrl} (${took()})` };
      }
      case "SET":
        await client.set(key, value);
        return { tone: "ok", text: `${label} = ${JSON.stringify(printable(value))} → OK (${took()})` };
      case "DEL": {
        const existed = await client.del(key);
        return existed ? { tone: "ok", text: `${label} → deleted (${took()})` } : { tone: "missing", text: `${label} → not found (${took()})` };
      }
    }
  } catch (error) {
    const message = error instanceof ClientError ? error.message : error instanceof Error ? error.message : String(error);
    return { tone: "error", text: `${label} failed: ${message}` };
  }
}
