// The query executor: GET/SET/DEL from a form or as text lines, with the status and body of every answer.
/** @jsxImportSource preact */
import { useState } from "preact/hooks";
import { clientFor, describeError, type NodeRef } from "./nodes.ts";
import { formatMs, shortUrl } from "./format.ts";
import { type Command, commandText, parseCommands, type QueryMethod } from "./query-text.ts";

/** Answers kept on screen; older ones scroll away. */
const RESULTS_MAX = 50;

/** An answer as it came, and how long it took. */
interface RawAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
  readonly durationMs: number;
}

/** The request a command makes, through the library's client, answered as it came (status and body). */
async function sendCommand(node: NodeRef, command: Command & { ttlMs?: number }): Promise<RawAnswer> {
  const client = clientFor(node);
  const key = encodeURIComponent(command.key);
  const started = performance.now();
  const answer =
    command.method === "GET"
      ? await client.send("GET", `/api/v1/get/${key}`)
      : command.method === "DEL"
        ? await client.send("DELETE", `/api/v1/del/${key}`)
        : await client.send("POST", "/api/v1/set", { key: command.key, value: command.value ?? "", ...(command.ttlMs === undefined ? {} : { ttlMs: command.ttlMs }) });
  return { status: answer.status, statusText: answer.statusText, body: answer.text, durationMs: Math.round(performance.now() - started) };
}

interface Result {
  readonly id: number;
  readonly text: string;
  readonly via: string;
  readonly answer?: RawAnswer;
  /** A request that got no answer, or a line that did not parse. */
  readonly problem?: string;
}

type Mode = "form" | "text";

let nextId = 1;

export function QueryView({ target, note, onChanged }: { target: NodeRef; note?: string; onChanged: () => void }) {
  const [mode, setMode] = useState<Mode>("form");
  const [method, setMethod] = useState<QueryMethod>("GET");
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [ttl, setTtl] = useState("");
  const [text, setText] = useState("");
  const [running, setRunning] = useState(false);
  const [results, setResults] = useState<readonly Result[]>([]);

  const add = (result: Omit<Result, "id">) => setResults((old) => [{ ...result, id: nextId++ }, ...old].slice(0, RESULTS_MAX));

  const run = async (command: Command & { ttlMs?: number }) => {
    const base = { text: commandText(command), via: target.url };
    try {
      const answer = await sendCommand(target, command);
      add({ ...base, answer });
      if (command.method !== "GET" && answer.status === 200) onChanged();
    } catch (error) {
      add({ ...base, problem: describeError(error) });
    }
  };

  const runForm = async () => {
    const ttlMs = ttl.trim() === "" ? undefined : Number(ttl);
    if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs < 1)) {
      add({ text: `${method} ${key}`, via: target.url, problem: "TTL must be a whole number of milliseconds, 1 or more" });
      return;
    }
    // An empty key is sent as typed: the node's own 400 is the answer to show.
    await run({ method, key, ...(method === "SET" ? { value, ttlMs } : {}) });
  };

  const runText = async () => {
    for (const parsed of parseCommands(text)) {
      if (!parsed.ok) add({ text: "parse error", via: target.url, problem: parsed.error });
      else await run(parsed.command);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setRunning(true);
    try {
      await (mode === "form" ? runForm() : runText());
    } finally {
      setRunning(false);
    }
  };

  return (
    <div class="query">
      <section class="card">
        <div class="segmented" role="tablist" aria-label="Executor mode">
          <button type="button" role="tab" aria-selected={mode === "form"} onClick={() => setMode("form")}>
            Form
          </button>
          <button type="button" role="tab" aria-selected={mode === "text"} onClick={() => setMode("text")}>
            Text
          </button>
        </div>
        <p class="muted small">
          Runs through <strong>{shortUrl(target.url)}</strong>
          {note === undefined ? "" : ` (${note})`}; the node routes each key to its replicas.
        </p>
        <form onSubmit={(event) => void submit(event)} class="query-form">
          {mode === "form" ? (
            <div class="form-grid">
              <label>
                Command
                <select value={method} aria-label="Command" onChange={(event) => setMethod(event.currentTarget.value as QueryMethod)}>
                  <option value="GET">GET</option>
                  <option value="SET">SET</option>
                  <option value="DEL">DEL</option>
                </select>
              </label>
              <label class="wide">
                Key
                <input type="text" aria-label="Key" value={key} placeholder="user:1" onInput={(event) => setKey(event.currentTarget.value)} />
              </label>
              {method === "SET" ? (
                <>
                  <label class="full">
                    Value
                    <textarea aria-label="Value" rows={3} class="mono" value={value} onInput={(event) => setValue(event.currentTarget.value)} />
                  </label>
                  <label>
                    TTL (ms, optional)
                    <input type="number" min="1" aria-label="TTL in milliseconds" value={ttl} onInput={(event) => setTtl(event.currentTarget.value)} />
                  </label>
                </>
              ) : null}
            </div>
          ) : (
            <label class="full">
              Commands, one a line
              <textarea
                aria-label="Commands"
                class="mono"
                rows={5}
                value={text}
                placeholder={'GET user:1\nSET user:1 Ada Lovelace\nSET "key with spaces" "  a quoted value\\n"\nDEL user:1'}
                onInput={(event) => setText(event.currentTarget.value)}
                onKeyDown={(event) => {
                  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) void submit(event);
                }}
              />
              <span class="muted small">GET key · SET key value… · DEL key · quote keys with spaces · Ctrl+Enter runs</span>
            </label>
          )}
          <div class="actions">
            <button class="btn btn-primary" type="submit" disabled={running}>
              {running ? "Running…" : "Run"}
            </button>
            <button class="btn btn-ghost" type="button" disabled={results.length === 0} onClick={() => setResults([])}>
              Clear results
            </button>
          </div>
        </form>
      </section>
      <section class="results" aria-label="Results" aria-live="polite">
        {results.map((r) => (
          <ResultCard result={r} key={r.id} />
        ))}
      </section>
    </div>
  );
}

function statusClass(answer: RawAnswer | undefined): string {
  if (answer === undefined) return "error";
  if (answer.status < 300) return "ok";
  return answer.status < 500 ? "warn" : "error";
}

/** JSON bodies are shown indented; anything else as it came. */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function ResultCard({ result }: { result: Result }) {
  const answer = result.answer;
  return (
    <article class="card result" data-status={answer?.status ?? "none"}>
      <header class="result-head">
        <code class="command">{result.text}</code>
        <span class={`status ${statusClass(answer)}`}>{answer === undefined ? "no answer" : `${answer.status} ${answer.statusText}`}</span>
        <span class="muted small">
          {answer === undefined ? "" : `${formatMs(answer.durationMs)} · `}via {shortUrl(result.via)}
        </span>
      </header>
      {answer === undefined ? <div class="error-note">{result.problem}</div> : <pre class="body">{prettyBody(answer.body)}</pre>}
    </article>
  );
}
