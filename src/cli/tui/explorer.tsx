// The data explorer: key and value inputs and GET/SET/DEL buttons, run against the selected node, the answer shown below.
import { Box, Text, useInput } from "ink";
import TextInput from "ink-text-input";
import { useRef, useState } from "react";
import type { NodeClient } from "../../client/node-client.ts";
import { truncate } from "../format.ts";
import { OPERATIONS, perform, type Answer, type Operation } from "./operation.ts";
import { PANEL_FRAME_CELLS, Panel } from "./panel.tsx";

export type ExplorerFocus = "key" | "value" | "actions";

const TONE_COLOR: Record<Answer["tone"], string> = { ok: "green", missing: "yellow", error: "red" };

export interface ExplorerProps {
  readonly focus: ExplorerFocus | undefined;
  /** The node the operations go to; undefined while no node answers. */
  readonly target: string | undefined;
  readonly clientFor: (url: string) => NodeClient;
  readonly width: number;
}

export function Explorer({ focus, target, clientFor, width }: ExplorerProps) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [chosen, setChosen] = useState<Operation>("GET");
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [busy, setBusy] = useState<Operation | undefined>();
  // Only the latest operation's answer is shown, however the earlier ones finish.
  const latest = useRef(0);

  const run = (operation: Operation) => {
    setChosen(operation);
    if (target === undefined) return setAnswer({ tone: "error", text: `${operation}: no node answers` });
    const id = ++latest.current;
    setBusy(operation);
    void perform(clientFor(target), operation, key, value).then((result) => {
      if (id !== latest.current) return;
      setBusy(undefined);
      setAnswer(result);
    });
  };

  useInput(
    (_input, k) => {
      const index = OPERATIONS.indexOf(chosen);
      if (k.leftArrow) setChosen(OPERATIONS[(index + OPERATIONS.length - 1) % OPERATIONS.length] ?? "GET");
      else if (k.rightArrow) setChosen(OPERATIONS[(index + 1) % OPERATIONS.length] ?? "GET");
      else if (k.return) run(chosen);
    },
    { isActive: focus === "actions" },
  );

  const label = (name: string, field: ExplorerFocus) => <Text color={focus === field ? "cyan" : undefined} bold={focus === field}>{`${name} `}</Text>;
  return (
    <Panel title={`Data explorer · via ${target ?? "no node"}`} active={focus !== undefined} width={width}>
      <Box>
        {label("Key:  ", "key")}
        <TextInput value={key} onChange={setKey} onSubmit={() => run("GET")} focus={focus === "key"} placeholder="type a key (Enter: GET)" showCursor={focus === "key"} />
      </Box>
      <Box>
        {label("Value:", "value")}
        <TextInput value={value} onChange={setValue} onSubmit={() => run("SET")} focus={focus === "value"} placeholder="type a value (Enter: SET)" showCursor={focus === "value"} />
      </Box>
      <Box>
        {label("Do:   ", "actions")}
        {OPERATIONS.map((operation) => (
          <Text key={operation} inverse={operation === chosen && focus === "actions"} bold={operation === chosen}>
            {` [${operation}] `}
          </Text>
        ))}
      </Box>
      {busy !== undefined ? (
        <Text dimColor>{`${busy}…`}</Text>
      ) : answer === undefined ? (
        <Text dimColor>no answer yet</Text>
      ) : (
        <Text color={TONE_COLOR[answer.tone]} wrap="truncate-end">
          {truncate(answer.text, width - PANEL_FRAME_CELLS)}
        </Text>
      )}
    </Panel>
  );
}
