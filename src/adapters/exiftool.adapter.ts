/**
 * The only module that talks to exiftool (exiftool-vendored). Owns one ExifTool process pool,
 * reads embedded metadata and writes tags into files through a verified temp copy.
 * See docs/embedded-metadata.md.
 */
import { mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExifTool, WriteTags } from 'exiftool-vendored';
import {
  embedSupport,
  formatOfFileType,
  planEmbed,
  planMismatches,
  type EmbedIntent,
  type EmbedPlan,
  type EmbedResult,
  type EmbeddingSettings,
} from '../domain/embed-plan.js';
import { type EmbeddedRead } from '../domain/embedded-metadata.js';
import { embeddedFromExiftool } from '../domain/exiftool-json.js';
import { errorMessage } from '../domain/errors.js';
import { EXIFTOOL_PARENT_ENV, prepareExiftoolHome, type ExiftoolHome } from './exiftool-config.js';
import {
  copyToTemp,
  finishTemp,
  removeTemp,
  replaceWithTemp,
  sha256File,
  snapshotFile,
  unchangedSince,
  type FileSnapshot,
} from './safe-rewrite.js';

export interface ExiftoolAdapterOptions {
  /** Directory for the generated exiftool config (`<stateDir>/exiftool/`). Default: a temp dir removed on close. */
  readonly stateDir?: string;
  /** Most exiftool processes run at once. Default 1: embedding is background work. */
  readonly maxProcs: number;
  /** A read or write taking longer is abandoned (writes copy whole videos). Default 120 000 ms. */
  readonly taskTimeoutMillis: number;
}

export const DEFAULT_EXIFTOOL_ADAPTER_OPTIONS: ExiftoolAdapterOptions = Object.freeze({
  maxProcs: 1,
  taskTimeoutMillis: 120_000,
});

/** Options of one {@link ExiftoolAdapter.writeEmbedded} call. */
export interface WriteEmbeddedOptions {
  /** Give the rewritten file the original's modification and access times. */
  readonly preserveMtime: boolean;
  /** Checks the rewritten temp file still decodes (`true`) or says why not. Runs before the rename. */
  readonly decodeCheck?: (file: string) => Promise<true | string>;
  /** `embedding.enabled` and `embedding.disabled_formats`; default: enabled for every writable format. */
  readonly settings?: Pick<EmbeddingSettings, 'enabled' | 'disabled_formats'>;
}

/**
 * `-G1` names every tag with its specific group (XMP-dc, IPTC, IFD0…); `-n` gives numbers and
 * raw dates; JSONQ quotes every value so keywords like `1.50` or `true` stay strings. Binary
 * values are never extracted (no `-b`), only their size is reported.
 */
const READ_ARGS: readonly string[] = [
  '-G1',
  '-n',
  '-api',
  'StructFormat=JSONQ',
  '-api',
  'struct=0',
  '-api',
  'LargeFileSupport=1',
];

/**
 * exiftool-vendored sends values HTML-encoded (`-E`) through exiftool's line-based argument
 * file, so newlines are safe, but it leaves `&` as is and joins list items with U+001F. Encoding
 * those two here makes every value round-trip exactly (`&#10;` stays text, U+001F stays a char).
 */
const UNIT_SEPARATOR = String.fromCharCode(0x1f);

function protectValue(value: string): string {
  return value.replace(/&/g, '&#38;').replaceAll(UNIT_SEPARATOR, '&#31;');
}

function toWriteTags(plan: EmbedPlan): WriteTags {
  const out: Record<string, string | string[] | null> = { ...plan.extra };
  for (const [field, value] of Object.entries(plan.fields)) {
    out[field] =
      value === null ? null : typeof value === 'string' ? protectValue(value) : value.map(protectValue);
  }
  return out;
}

/**
 * exiftool-vendored sends arguments as lines and refuses any holding CR or LF, so a file named
 * `a\nb.jpg` cannot be passed to exiftool as it is.
 */
const LINE_BREAK = /[\r\n]/;

/**
 * Runs `use` with a path exiftool can be given for `file`: the file itself, or, when its path
 * holds a line break, a symlink to it in a private temporary folder (exiftool reads through it;
 * the extension is kept). The folder is removed afterwards.
 */
async function withPlainPath<T>(file: string, use: (plain: string) => Promise<T>): Promise<T> {
  if (!LINE_BREAK.test(file)) return use(file);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'alice-exiftool-'));
  try {
    const link = path.join(dir, `file${path.extname(file).replace(/[\r\n]/g, '')}`);
    await symlink(path.resolve(file), link);
    return await use(link);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function failed(reason: string, warnings: readonly string[] = []): EmbedResult {
  return { status: 'failed', reason, warnings: [...warnings] };
}

/** One exiftool pool for reading and writing embedded metadata. Constructor only assigns. */
export class ExiftoolAdapter {
  readonly #options: ExiftoolAdapterOptions;
  /** The pool, created on first use: exiftool-vendored is loaded and its config written only then. */
  #exiftool: Promise<ExifTool> | undefined;
  #home: ExiftoolHome | undefined;
  #started = false;

  constructor(options: Partial<ExiftoolAdapterOptions> = {}) {
    this.#options = Object.freeze({ ...DEFAULT_EXIFTOOL_ADAPTER_OPTIONS, ...options });
  }

  /**
   * Makes the adapter usable. The exiftool config and the pool are created on first use (commands
   * that never read or write metadata do not load exiftool-vendored at all); processes spawn then.
   */
  start(): Promise<void> {
    this.#started = true;
    return Promise.resolve();
  }

  /** Ends the exiftool processes and removes a temporary config. Idempotent. */
  async close(): Promise<void> {
    const pending = this.#exiftool;
    this.#exiftool = undefined;
    this.#started = false;
    const exiftool = pending === undefined ? undefined : await pending.catch(() => undefined);
    const home = this.#home;
    this.#home = undefined;
    if (exiftool !== undefined) await exiftool.end();
    if (home !== undefined) await home.dispose();
  }

  #tool(): Promise<ExifTool> {
    if (!this.#started) return Promise.reject(new Error('ExiftoolAdapter used before start()'));
    this.#exiftool ??= this.#create();
    return this.#exiftool;
  }

  async #create(): Promise<ExifTool> {
    const [{ ExifTool: Pool }, home] = await Promise.all([
      import('exiftool-vendored'),
      prepareExiftoolHome(this.#options.stateDir),
    ]);
    this.#home = home;
    return new Pool({
      exiftoolEnv: { EXIFTOOL_HOME: home.dir, [EXIFTOOL_PARENT_ENV]: String(process.pid) },
      maxProcs: this.#options.maxProcs,
      taskTimeoutMillis: this.#options.taskTimeoutMillis,
      // MWG composites would rewrite tags alice did not ask for; minor errors stay visible.
      useMWG: false,
      ignoreMinorErrors: false,
    });
  }

  /**
   * Reads keywords, description, dates, dimensions, the alice hash and the text fields the
   * generation parsers need. Rejects with the errno error (ENOENT…) when the file cannot be
   * opened; exiftool's complaints about the content come back as `warnings`. A path holding a
   * line break is read through a symlink (see `withPlainPath`).
   */
  async readEmbedded(file: string): Promise<EmbeddedRead> {
    await stat(file);
    const tool = await this.#tool();
    const json = await withPlainPath(file, (plain) =>
      tool.readRaw(plain, { readArgs: [...READ_ARGS], useMWG: false }),
    );
    return embeddedFromExiftool(json as unknown as Record<string, unknown>);
  }

  /**
   * Makes the file carry `intent`: unsupported or disabled formats give `sidecar_only`, a file
   * that already holds it gives `current` (nothing rewritten), otherwise the safe rewrite runs
   * and gives `written` with the file's new byte hash, or `failed` with the original untouched.
   */
  async writeEmbedded(file: string, intent: EmbedIntent, opts: WriteEmbeddedOptions): Promise<EmbedResult> {
    let read: EmbeddedRead;
    try {
      read = await this.readEmbedded(file);
    } catch (err) {
      return failed(`cannot read ${file}: ${errorMessage(err)}`);
    }
    const support = embedSupport(formatOfFileType(read.fileType), opts.settings);
    if (!support.writable) return { status: 'sidecar_only', reason: support.reason };
    const plan = planEmbed(read, intent, support.format);
    if (planMismatches(read, plan).length === 0) return { status: 'current' };
    return this.#rewrite(file, plan, opts);
  }

  async #rewrite(file: string, plan: EmbedPlan, opts: WriteEmbeddedOptions): Promise<EmbedResult> {
    const warnings: string[] = [...plan.warnings];
    let original: FileSnapshot;
    let temp: string;
    try {
      original = await snapshotFile(file);
      temp = await copyToTemp(file);
    } catch (err) {
      return failed(`cannot copy ${file} to a temp file: ${errorMessage(err)}`, warnings);
    }
    try {
      const reason = await this.#writeAndCheck(temp, plan, opts, warnings);
      if (reason !== undefined) return failed(reason, warnings);
      await finishTemp(temp, original, opts.preserveMtime);
      const newHash = await sha256File(temp);
      if (!(await unchangedSince(file, original)))
        return failed('file changed while alice was writing to it', warnings);
      await replaceWithTemp(temp, file);
      return { status: 'written', newHash, warnings };
    } catch (err) {
      return failed(errorMessage(err), warnings);
    } finally {
      // After a successful rename the temp name no longer exists: this only cleans up failures.
      await removeTemp(temp);
    }
  }

  /** Writes the plan into the temp copy and checks it; returns why it failed, or undefined. */
  async #writeAndCheck(
    temp: string,
    plan: EmbedPlan,
    opts: WriteEmbeddedOptions,
    warnings: string[],
  ): Promise<string | undefined> {
    try {
      const result = await (
        await this.#tool()
      ).write(temp, toWriteTags(plan), {
        writeArgs: ['-overwrite_original'],
        useMWG: false,
      });
      warnings.push(...(result.warnings ?? []));
    } catch (err) {
      return `exiftool could not write: ${errorMessage(err)}`;
    }
    const back = await this.readEmbedded(temp);
    warnings.push(...back.warnings);
    const wrong = planMismatches(back, plan);
    if (wrong.length > 0) return `read-back differs from what was written: ${wrong.join(', ')}`;
    if (opts.decodeCheck === undefined) return undefined;
    const decoded = await opts.decodeCheck(temp);
    return decoded === true ? undefined : `rewritten file does not decode: ${decoded}`;
  }
}
