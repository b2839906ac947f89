// Lines of a text read chunk by chunk, none longer than a bound: a longer one fails as soon as it passes the
// bound, before the rest of it is read (node:readline would hold a whole line, however long, in memory first).

/**
 * The lines of `chunks` (split at "\n"; a "\r" before it is dropped, as is a last empty line). A line past
 * `maxChars` throws `tooLong(itsLineNumber)` once that many characters of it were read.
 */
export async function* boundedLines(chunks: AsyncIterable<string>, maxChars: number, tooLong: (lineNumber: number) => Error): AsyncGenerator<string> {
  let partial = "";
  let lineNumber = 0;
  const finished = (ended: string) => {
    lineNumber++;
    const line = ended.endsWith("\r") ? ended.slice(0, -1) : ended;
    if (line.length > maxChars) throw tooLong(lineNumber);
    return line;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf("\n"); end >= 0; end = chunk.indexOf("\n", start)) {
      const line = partial + chunk.slice(start, end);
      partial = "";
      start = end + 1;
      yield finished(line);
    }
    partial += chunk.slice(start);
    // A "\r" at the end may be the first half of a "\r\n" that ends a line of exactly the bound.
    if (partial.length > maxChars + (partial.endsWith("\r") ? 1 : 0)) throw tooLong(lineNumber + 1);
  }
  if (partial !== "") yield finished(partial);
}
