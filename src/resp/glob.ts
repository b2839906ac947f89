// Redis's MATCH patterns (* ? [abc] [^a] [a-z] \x) matched without regular expressions: one pass with a single
// backtrack point per star, so a forged pattern (`*a*a*a…b`) costs pattern × key steps, never exponential time,
// and any text is a pattern (an unclosed [ is a literal, a reversed range matches nothing), never an error.

type Token = { readonly kind: "star" } | { readonly kind: "one" } | { readonly kind: "char"; readonly char: string } | { readonly kind: "set"; readonly negate: boolean; readonly test: (c: string) => boolean };

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "*") {
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") tokens.push({ kind: "one" });
    else if (c === "\\" && i + 1 < chars.length) tokens.push({ kind: "char", char: chars[++i]! });
    else if (c === "[" && chars.indexOf("]", i + 1) !== -1) {
      const end = chars.indexOf("]", i + 1);
      let body = chars.slice(i + 1, end);
      const negate = body[0] === "^";
      if (negate) body = body.slice(1);
      const singles = new Set<string>();
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j] === "\\" && j + 1 < body.length) singles.add(body[++j]!);
        else if (j + 2 < body.length && body[j + 1] === "-") {
          ranges.push([body[j]!, body[j + 2]!]);
          j += 2;
        } else singles.add(body[j]!);
      }
      tokens.push({ kind: "set", negate, test: (ch) => singles.has(ch) || ranges.some(([lo, hi]) => lo <= ch && ch <= hi) });
      i = end;
    } else tokens.push({ kind: "char", char: c });
  }
  return tokens;
}

function matchesOne(token: Token, c: string): boolean {
  switch (token.kind) {
    case "one":
      return true;
    case "char":
      return token.char === c;
    case "set":
      return token.test(c) !== token.negate;
    case "star":
      return false;
  }
}

/** A predicate for keys matching `pattern`, by code point. */
export function globMatcher(pattern: string): (key: string) => boolean {
  const tokens = tokenize(pattern);
  return (key) => {
    const chars = [...key];
    let t = 0;
    let k = 0;
    let starT = -1;
    let starK = 0;
    while (k < chars.length) {
      const token = tokens[t];
      if (token?.kind === "star") {
        starT = t++;
        starK = k;
      } else if (token !== undefined && matchesOne(token, chars[k]!)) {
        t++;
        k++;
      } else if (starT !== -1) {
        // The last star takes one more character; everything after it is tried again from there.
        t = starT + 1;
        k = ++starK;
      } else return false;
    }
    while (tokens[t]?.kind === "star") t++;
    return t === tokens.length;
  };
}
