/**
 * Step 2 of `alice migrate --from FILE`: a database export (JSON Lines or CSV, one record per
 * file, keyed by path or content hash) becomes sidecars. A record names its asset by path (the file
 * is hashed) or by content hash (its roots are found through existing sidecars, the index, or by
 * hashing the roots); tags, description and prompt are added where the sidecar lacks them.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AliceError, ErrorCode, errorMessage } from '../../domain/errors.js';
import { csvRecords } from '../../domain/csv.js';
import { mediaInfoFor } from '../../domain/media.js';
import { importRecord, type ImportedRecord } from '../../domain/record-import.js';
import type { Sidecar } from '../../domain/sidecar.js';
import { sidecarFromAnalysis } from '../scan/asset-rows.js';
import { applyRecord } from './migrate-merge.js';
import type { FileFinder, SidecarPlan } from './migrate-files.js';
import type { Analyser, EventSink } from '../../ports.js';

/** Exports larger than this are refused (CSV is parsed in memory). */
export const MAX_EXPORT_BYTES = 256 * 1024 * 1024;

export const RecordFormat = { JSONL: 'jsonl', CSV: 'csv', TSV: 'tsv' } as const;
export type RecordFormat = (typeof RecordFormat)[keyof typeof RecordFormat];

export interface ImportedItem {
  /** Line (JSON Lines), row (CSV, header = 1) or array position (from 1, a `.json` array) of the record. */
  line: number;
  content_hash: string;
  root: string;
  sidecar: string;
  /** True when the record's file had no sidecar yet and one was made from the file. */
  created: boolean;
  changes: string[];
  warnings: string[];
}

export interface SkippedRecord {
  line: number;
  /** The path or hash the record named, when it named one. */
  ref: string | null;
  reason: string;
}

export interface RecordsReport {
  file: string;
  format: RecordFormat;
  records: number;
  imported: ImportedItem[];
  /** Records whose sidecars already held everything they carry. */
  unchanged: number;
  skipped: SkippedRecord[];
  warnings: string[];
}

export interface RecordImportDeps {
  readonly analyser: Analyser;
  readonly finder: FileFinder;
  readonly plan: SidecarPlan;
  readonly events: EventSink;
  readonly roots: readonly string[];
  readonly cwd: string;
  readonly now: string;
  readonly dryRun: boolean;
}

interface Target {
  root: string;
  hash: string;
  file: string | null;
}

/** The export's format, from its extension. */
export function recordFormatOf(file: string): RecordFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return RecordFormat.JSONL;
  if (ext === '.csv') return RecordFormat.CSV;
  if (ext === '.tsv') return RecordFormat.TSV;
  throw new AliceError(ErrorCode.INVALID_INPUT, `unknown export format: ${file}`, {
    hint: 'use a .jsonl (JSON Lines) or .csv file',
  });
}

type RawRecord = { line: number; record: Record<string, unknown> } | { line: number; error: string };

async function* readJsonLines(file: string): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        yield { line, record: value as Record<string, unknown> };
      else yield { line, error: 'not a JSON object' };
    } catch (err) {
      yield { line, error: `not valid JSON: ${errorMessage(err)}` };
    }
  }
}

/** A `.json` file holding one array of records (numbered from 1); undefined when it is JSON Lines. */
async function readJsonArray(file: string): Promise<RawRecord[] | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown, i) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? { line: i + 1, record: item as Record<string, unknown> }
      : { line: i + 1, error: 'not a JSON object' },
  );
}

export class RecordImporter {
  constructor(private readonly deps: RecordImportDeps) {}

  async run(file: string): Promise<RecordsReport> {
    const format = recordFormatOf(file);
    const st = await fs.stat(file).catch((err: unknown) => {
      throw new AliceError(ErrorCode.NOT_FOUND, `cannot read ${file}: ${errorMessage(err)}`);
    });
    if (st.size > MAX_EXPORT_BYTES)
      throw new AliceError(ErrorCode.INVALID_INPUT, `${file} is larger than 256 MiB; split it`);
    const report: RecordsReport = {
      file,
      format,
      records: 0,
      imported: [],
      unchanged: 0,
      skipped: [],
      warnings: [],
    };
    for await (const raw of this.records(file, format, report.warnings)) {
      report.records++;
      if ('error' in raw) report.skipped.push({ line: raw.line, ref: null, reason: raw.error });
      else await this.one(raw.line, raw.record, path.dirname(file), report);
    }
    return report;
  }

  private async *records(file: string, format: RecordFormat, warnings: string[]): AsyncGenerator<RawRecord> {
    if (format === RecordFormat.JSONL) {
      const whole = path.extname(file).toLowerCase() === '.json' ? await readJsonArray(file) : undefined;
      if (whole !== undefined) yield* whole;
      else yield* readJsonLines(file);
      return;
    }
    const text = await fs.readFile(file, 'utf8');
    const parsed = csvRecords(text, { delimiter: format === RecordFormat.TSV ? '\t' : ',' });
    warnings.push(...parsed.warnings);
    for (const [i, record] of parsed.records.entries()) yield { line: i + 2, record };
  }

  private async one(
    line: number,
    record: Record<string, unknown>,
    fromDir: string,
    report: RecordsReport,
  ): Promise<void> {
    const imp = importRecord(record);
    const ref = imp.path ?? imp.contentHash ?? null;
    try {
      const targets = await this.targets(imp, fromDir);
      if (typeof targets === 'string') {
        report.skipped.push({ line, ref, reason: [targets, ...imp.warnings].join('; ') });
        return;
      }
      for (const t of targets) await this.apply(line, ref, imp, t, report);
    } catch (err) {
      report.skipped.push({ line, ref, reason: errorMessage(err) });
    }
  }

  /** Where the record's asset lives, or why it cannot be placed. */
  private async targets(imp: ImportedRecord, fromDir: string): Promise<Target[] | string> {
    const { finder } = this.deps;
    if (imp.path === undefined && imp.contentHash === undefined)
      return 'the record names neither a file path nor a SHA-256 content hash';
    if (imp.path !== undefined) {
      const file = await this.resolvePath(imp.path, fromDir);
      if (file === undefined && imp.contentHash === undefined)
        return `no file ${imp.path} inside a configured root`;
      if (file !== undefined) {
        const hash = await finder.hashOf(file);
        if (hash === undefined) return `cannot read ${file}`;
        if (imp.contentHash !== undefined && imp.contentHash !== hash)
          return `${file} now has content hash ${hash.slice(0, 12)}…, not the record's ${imp.contentHash.slice(0, 12)}…: the file changed since the export`;
        return [{ root: finder.rootOf(file)?.path ?? '', hash, file }];
      }
    }
    return this.targetsByHash(imp.contentHash as string);
  }

  private async targetsByHash(hash: string): Promise<Target[] | string> {
    const withSidecar: Target[] = [];
    for (const root of this.deps.roots)
      if ((await this.deps.plan.read(root, hash)).status !== 'absent')
        withSidecar.push({ root, hash, file: null });
    if (withSidecar.length > 0) return withSidecar;
    const byRoot = new Map<string, Target>();
    for (const file of await this.deps.finder.find(hash)) {
      const root = this.deps.finder.rootOf(file)?.path;
      if (root !== undefined && !byRoot.has(root)) byRoot.set(root, { root, hash, file });
    }
    if (byRoot.size > 0) return [...byRoot.values()];
    return `no file or sidecar with content hash ${hash.slice(0, 12)}… in any configured root`;
  }

  /** An absolute path, or a relative one against each root, the export's folder, then the cwd. */
  private async resolvePath(p: string, fromDir: string): Promise<string | undefined> {
    const bases = path.isAbsolute(p) ? [''] : [...this.deps.roots, fromDir, this.deps.cwd];
    for (const base of bases) {
      const full = path.resolve(base, p);
      if (this.deps.finder.rootOf(full) === undefined) continue;
      const st = await fs.stat(full).catch(() => undefined);
      if (st?.isFile() === true) return full;
    }
    return undefined;
  }

  private async apply(
    line: number,
    ref: string | null,
    imp: ImportedRecord,
    t: Target,
    report: RecordsReport,
  ): Promise<void> {
    const { plan } = this.deps;
    const read = await plan.read(t.root, t.hash);
    let base: Sidecar;
    let created = false;
    if (read.status === 'ok') base = read.sidecar;
    else if (read.status === 'absent' && t.file !== null) {
      base = await this.newSidecar(t.hash, t.root, t.file);
      created = true;
    } else {
      const why =
        read.status === 'absent' ? 'no sidecar and no file' : `sidecar ${read.file} is ${read.status}`;
      report.skipped.push({ line, ref, reason: `${why}: run \`alice index rebuild\` first` });
      return;
    }
    const { sidecar, changes } = applyRecord(base, imp, this.deps.now);
    if (!created && changes.length === 0) {
      report.unchanged++;
      return;
    }
    const file = await plan.write(t.root, sidecar);
    report.imported.push({
      line,
      content_hash: t.hash,
      root: t.root,
      sidecar: file,
      created,
      changes,
      warnings: imp.warnings,
    });
    if (!this.deps.dryRun && t.file !== null)
      this.deps.events.emit('asset.updated', {
        content_hash: t.hash,
        path: t.file,
        root: t.root,
        media_type: sidecar.analysis.media_type,
        changes: created ? ['imported'] : changes.map((c) => c.split(' ')[0] ?? c),
      });
  }

  /** A fresh sidecar for a file that has none yet, exactly as a scan would make it. */
  private async newSidecar(hash: string, root: string, file: string): Promise<Sidecar> {
    const media = mediaInfoFor(file);
    if (media === undefined) throw new Error(`${file} is not a media file alice indexes`);
    const st = await fs.stat(file);
    const analysis = await this.deps.analyser.analyse(file, media);
    const sidecar = sidecarFromAnalysis({
      hash,
      file,
      size: st.size,
      media,
      analysis,
      now: this.deps.now,
      mtimeMs: st.mtimeMs,
    });
    return { ...sidecar, last_paths: [path.relative(root, file)] };
  }
}
