/**
 * A small RFC 4180 CSV reader for database exports: quoted fields, `""` escapes, delimiters and
 * newlines inside quotes, CRLF/LF/CR line ends, a leading BOM. Lenient: malformed quoting gives a
 * warning and the best reading, never an exception. Pure.
 */

export interface CsvOptions {
  /** Field separator. Default `,`. */
  readonly delimiter?: string;
  /** Rows kept; the rest are dropped with a warning. Default 1,000,000. */
  readonly maxRows?: number;
}

export interface CsvResult {
  readonly rows: string[][];
  readonly warnings: string[];
}

class CsvState {
  rows: string[][] = [];
  row: string[] = [];
  field = '';
  quoted = false;
  inQuotes = false;

  endField(): void {
    this.row.push(this.field);
    this.field = '';
    this.quoted = false;
  }

  endRow(): void {
    const quoted = this.quoted;
    this.endField();
    // A blank line is no record; a line holding only `""` is one empty field.
    if (!(this.row.length === 1 && this.row[0] === '' && !quoted)) this.rows.push(this.row);
    this.row = [];
  }
}

/** Parses CSV text into rows of fields. */
export function parseCsv(text: string, options: CsvOptions = {}): CsvResult {
  const delimiter = options.delimiter ?? ',';
  const maxRows = options.maxRows ?? 1_000_000;
  const warnings: string[] = [];
  const s = new CsvState();
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let strayQuote = false;
  for (let i = 0; i < input.length && s.rows.length < maxRows; i++) {
    const ch = input[i] ?? '';
    if (s.inQuotes) {
      if (ch !== '"') s.field += ch;
      else if (input[i + 1] === '"') {
        s.field += '"';
        i++;
      } else s.inQuotes = false;
    } else if (ch === '"' && s.field === '' && !s.quoted) {
      s.inQuotes = true;
      s.quoted = true;
    } else if (ch === delimiter) s.endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && input[i + 1] === '\n') i++;
      s.endRow();
    } else {
      if (ch === '"' || s.quoted) strayQuote = true;
      s.field += ch;
    }
  }
  if (s.inQuotes) warnings.push('unterminated quoted field at end of input');
  if (strayQuote) warnings.push('quote characters outside a quoted field were kept as text');
  if (s.field !== '' || s.row.length > 0 || s.quoted) s.endRow();
  if (s.rows.length >= maxRows) warnings.push(`stopped after ${maxRows} rows`);
  return { rows: s.rows, warnings };
}

/** Parses CSV with a header row into records keyed by column name. */
export function csvRecords(
  text: string,
  options: CsvOptions = {},
): { records: Record<string, string>[]; warnings: string[] } {
  const { rows, warnings } = parseCsv(text, options);
  const [header, ...body] = rows;
  if (header === undefined) return { records: [], warnings };
  const records = body.map((row, index) => {
    if (row.length !== header.length)
      warnings.push(`row ${index + 2}: ${row.length} fields, header has ${header.length}`);
    const record: Record<string, string> = {};
    header.forEach((name, i) => {
      if (i < row.length) record[name.trim()] = row[i] ?? '';
    });
    return record;
  });
  return { records, warnings };
}
