/**
 * The one place (besides the settings loader) that imports the `yaml` library. Exposes small
 * ports: parse with line-numbered errors, locate a value's line by its key path, write YAML, and
 * change top-level keys of a hand-edited file while keeping its comments and layout.
 */
import YAML, { LineCounter, isCollection, isNode, isPair, isScalar } from 'yaml';

/** A syntax error with its 1-based line and column. */
export interface TextSyntaxError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly message: string;
}

export type ParsedText =
  | {
      readonly ok: true;
      readonly value: unknown;
      /** 1-based line of the value at `keyPath` (or of its closest existing parent). */
      readonly lineOf: (keyPath: readonly PropertyKey[]) => number | undefined;
    }
  | { readonly ok: false; readonly errors: readonly TextSyntaxError[] };

/**
 * Parses YAML (and so JSON, which is a subset as far as locating values goes). Never throws on bad
 * input: syntax problems come back with their line numbers.
 */
export function parseYamlText(text: string): ParsedText {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        line: e.linePos?.[0].line,
        column: e.linePos?.[0].col,
        // prettyErrors appends the position and a code frame; the caller prints its own position.
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  const lineOf = (keyPath: readonly PropertyKey[]): number | undefined => {
    for (let n = keyPath.length; n >= 0; n--) {
      const offset = offsetOf(doc, keyPath.slice(0, n));
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return undefined;
  };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown, lineOf };
}

/** Start offset of the key (for map entries) or the value at `keyPath`. */
function offsetOf(doc: YAML.Document, keyPath: readonly PropertyKey[]): number | undefined {
  if (keyPath.length === 0) return doc.contents?.range?.[0];
  const parent = keyPath.length === 1 ? doc.contents : doc.getIn(keyPath.slice(0, -1), true);
  const last = keyPath[keyPath.length - 1];
  if (!isCollection(parent)) return undefined;
  for (const [i, item] of parent.items.entries()) {
    if (isPair(item)) {
      const key = isScalar(item.key) ? item.key.value : item.key;
      if (String(key) === String(last) && isNode(item.key)) return item.key.range?.[0];
    } else if (i === Number(last) && isNode(item)) return item.range?.[0];
  }
  return undefined;
}

/** Serialises a plain value as YAML, with an optional comment block on top. */
export function stringifyYaml(value: unknown, headerComment?: string): string {
  const doc = new YAML.Document(value);
  if (headerComment !== undefined) doc.commentBefore = headerComment;
  return doc.toString({ lineWidth: 0 });
}

/**
 * Sets top-level keys of an existing YAML text, keeping comments, key order and formatting of
 * everything else (users hand-edit these files). The text must parse: call parseYamlText first.
 */
export function setYamlKeys(text: string, updates: Readonly<Record<string, unknown>>): string {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new Error('setYamlKeys: the text is not valid YAML');
  for (const [key, value] of Object.entries(updates)) doc.set(key, value);
  return doc.toString({ lineWidth: 0 });
}
