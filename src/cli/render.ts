/** The only place that writes to stdout: JSON with --json, readable text otherwise. */
import { AliceError, errorMessage } from '../domain/errors.js';

export interface Rendered {
  /** Structured result, printed as-is with --json. */
  data: unknown;
  /** Human-readable lines. */
  text: string[];
  /** Exact bytes to print instead of `text` (NUL-separated paths, CSV); ignored with --json. */
  raw?: string;
  exitCode?: number;
}

/** One RFC 4180 CSV line: fields quoted when they hold a comma, quote or line break. */
export function csvLine(fields: readonly (string | number | null)[]): string {
  return fields
    .map((f) => {
      const s = f === null ? '' : String(f);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

/**
 * Text for a terminal: control characters other than newline and tab (ESC, carriage return,
 * backspace, C1 codes…), which a file name may hold, are shown as `\xNN` instead of acting on the
 * terminal. `--json`, `--paths`, `-0` and `--csv` carry names exactly as they are.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what is matched
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function print(result: Rendered, json: boolean): void {
  if (result.data === undefined && json) return;
  if (!json && result.raw !== undefined) {
    process.stdout.write(result.raw);
    return;
  }
  if (json)
    process.stdout.write(
      `${JSON.stringify(result.data, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`,
    );
  else if (result.text.length > 0) process.stdout.write(`${terminalSafe(result.text.join('\n'))}\n`);
}

/** Errors go to stderr (and, with --json, also as a JSON object on stdout). */
/** Notes about the answer (e.g. the index is still being built), on stderr so stdout stays data. */
export function printNotices(notices: readonly string[], json: boolean): void {
  for (const n of new Set(notices))
    process.stderr.write(json ? `${JSON.stringify({ notice: n })}\n` : `note: ${terminalSafe(n)}\n`);
}

export function printError(err: unknown, json: boolean, verbose: boolean): void {
  if (err instanceof AliceError) {
    const lines = [`error [${err.code}]: ${err.message}`, ...err.details.map((d) => `  - ${d}`)];
    if (err.hint !== undefined) lines.push(`hint: ${err.hint}`);
    process.stderr.write(`${terminalSafe(lines.join('\n'))}\n`);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details, hint: err.hint ?? null } })}\n`,
      );
    return;
  }
  process.stderr.write(`error: ${terminalSafe(errorMessage(err))}\n`);
  if (verbose && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  if (json)
    process.stdout.write(`${JSON.stringify({ error: { code: 'INTERNAL', message: errorMessage(err) } })}\n`);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function shortHash(h: string | null | undefined): string {
  return h === null || h === undefined ? '-' : `${h.slice(0, 12)}…`;
}

export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}

/** Streams one line (for commands that follow, like `events tail --follow`). */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}
