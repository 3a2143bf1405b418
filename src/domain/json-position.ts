/**
 * Where JSON text first goes wrong. Node 20's `JSON.parse` messages do not always carry a position
 * ("Unexpected token ',', ..."x": [,]" is not valid JSON"), and users need the line of the mistake
 * in a hand-edited file. A small recursive-descent scan finds the offset. Pure.
 */

class Scan {
  i = 0;
  constructor(private readonly s: string) {}

  fail(): never {
    throw new JsonErrorAt(this.i);
  }

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i] as string)) this.i++;
  }

  expect(ch: string): void {
    if (this.s[this.i] !== ch) this.fail();
    this.i++;
  }

  value(depth: number): void {
    if (depth > 512) this.fail();
    this.ws();
    const c = this.s[this.i];
    if (c === '{') this.container('}', depth, true);
    else if (c === '[') this.container(']', depth, false);
    else if (c === '"') this.string();
    else if (c !== undefined && /[-0-9]/.test(c)) this.number();
    else this.word();
  }

  container(close: string, depth: number, keyed: boolean): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      if (keyed) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail();
        this.string();
        this.ws();
        this.expect(':');
      }
      this.value(depth + 1);
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      this.expect(close);
      return;
    }
  }

  string(): void {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return;
      }
      if (c < 0x20) this.fail();
      if (c === 0x5c) {
        const e = this.s[this.i + 1] ?? '';
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) this.i += 6;
        else if ('"\\/bfnrt'.includes(e) && e !== '') this.i += 2;
        else {
          this.i++;
          this.fail();
        }
      } else this.i++;
    }
    this.fail();
  }

  number(): void {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(this.s.slice(this.i));
    if (m === null) this.fail();
    this.i += m[0].length;
  }

  word(): void {
    for (const w of ['true', 'false', 'null']) {
      if (this.s.startsWith(w, this.i)) {
        this.i += w.length;
        return;
      }
    }
    this.fail();
  }
}

class JsonErrorAt extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
  }
}

/** Offset of the first syntax error in `text`, or undefined when it is valid JSON. */
export function jsonErrorOffset(text: string): number | undefined {
  const scan = new Scan(text);
  try {
    scan.value(0);
    scan.ws();
    if (scan.i < text.length) scan.fail();
    return undefined;
  } catch (err) {
    if (err instanceof JsonErrorAt) return err.offset;
    throw err;
  }
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.min(offset, text.length));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}
