/**
 * "Move the others to the trash": files leave their place for `<root>/.alice-trash/<date>/<rel path>`
 * (a rename inside the same root, never a delete), a journal under `$ALICE_HOME/state/trash/`
 * records every move so `undo` can put each file back, and the index is updated for the paths that
 * changed (the trash folder starts with a dot, so scans and watchers never index it). Files in
 * project roots are never touched: a project's selection is a decision someone already made.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { exists, writeFileAtomic } from '../../adapters/fs.adapter.js';
import type { AssetRepository } from '../../adapters/index/asset.repository.js';
import type { RootConfig } from '../../config/config.js';
import { isInside } from '../../config/paths.js';
import { AliceError, ErrorCode, errnoCode } from '../../domain/errors.js';
import type { Clock } from '../../ports.js';

/** Folder (below each asset root) that holds trashed files. */
export const TRASH_DIR = '.alice-trash';

export interface TrashMove {
  /** Where the file was (and goes back to on undo). */
  from: string;
  /** Where it is in the trash. */
  to: string;
  content_hash: string;
}

export interface TrashSkip {
  path: string;
  reason: string;
}

export interface TrashResult {
  /** Batch id: give it to `trash.undo`. Null when nothing moved. */
  batch: string | null;
  moved: TrashMove[];
  skipped: TrashSkip[];
}

export interface UndoResult {
  batch: string;
  restored: TrashMove[];
  skipped: TrashSkip[];
}

interface Journal {
  batch: string;
  at: string;
  moves: TrashMove[];
  undone_at: string | null;
}

export interface TrashDeps {
  readonly roots: readonly RootConfig[];
  readonly repo: AssetRepository;
  /** Folder of the journals (`$ALICE_HOME/state/trash`). */
  readonly journalDir: string;
  readonly clock: Clock;
  /** Re-reads these paths into the index (an update scan limited to them). */
  readonly rescan: (paths: readonly string[]) => Promise<void>;
}

const BATCH = /^[0-9TZ-]{15,20}-[0-9a-f]{6}$/;

export class TrashService {
  constructor(private readonly deps: TrashDeps) {}

  /** Moves each indexed, present file of an asset root into that root's trash. */
  async move(paths: readonly string[]): Promise<TrashResult> {
    const now = this.deps.clock.now();
    const batch = `${now.toISOString().replace(/[:.]/g, '').slice(0, 17)}Z-${randomBytes(3).toString('hex')}`;
    const day = now.toISOString().slice(0, 10);
    const moved: TrashMove[] = [];
    const skipped: TrashSkip[] = [];
    for (const raw of new Set(paths)) {
      const file = path.resolve(raw);
      const checked = await this.check(file);
      if (typeof checked === 'string') {
        skipped.push({ path: file, reason: checked });
        continue;
      }
      const to = await freeName(path.join(checked.root, TRASH_DIR, day, path.relative(checked.root, file)));
      await fs.mkdir(path.dirname(to), { recursive: true });
      try {
        await fs.rename(file, to);
      } catch (err) {
        skipped.push({ path: file, reason: `cannot move: ${errnoCode(err) ?? String(err)}` });
        continue;
      }
      moved.push({ from: file, to, content_hash: checked.hash });
    }
    if (moved.length === 0) return { batch: null, moved, skipped };
    await this.writeJournal({ batch, at: now.toISOString(), moves: moved, undone_at: null });
    await this.deps.rescan(moved.map((m) => m.from));
    return { batch, moved, skipped };
  }

  /** Puts every file of a batch back where it was, unless something else now lies there. */
  async undo(batch: string): Promise<UndoResult> {
    const journal = await this.readJournal(batch);
    if (journal.undone_at !== null) {
      throw new AliceError(ErrorCode.INVALID_INPUT, `trash batch ${batch} was already undone`, {
        hint: 'its files are back in place',
      });
    }
    const restored: TrashMove[] = [];
    const skipped: TrashSkip[] = [];
    for (const m of journal.moves) {
      if (await exists(m.from)) {
        skipped.push({ path: m.from, reason: 'a file is back at that path already' });
        continue;
      }
      try {
        await fs.mkdir(path.dirname(m.from), { recursive: true });
        await fs.rename(m.to, m.from);
        restored.push(m);
      } catch (err) {
        skipped.push({ path: m.from, reason: `cannot restore: ${errnoCode(err) ?? String(err)}` });
      }
    }
    await this.writeJournal({ ...journal, undone_at: this.deps.clock.now().toISOString() });
    if (restored.length > 0) await this.deps.rescan(restored.map((m) => m.from));
    return { batch, restored, skipped };
  }

  /** The asset root holding an indexed, present, regular file; else why it is refused. */
  private async check(file: string): Promise<{ root: string; hash: string } | string> {
    if (this.deps.roots.some((r) => r.kind === 'project' && isInside(file, r.path)))
      return 'inside a project folder: projects are never touched';
    const root = this.deps.roots.find((r) => r.kind === 'asset' && isInside(file, r.path));
    if (root === undefined) return 'outside the asset roots';
    if (file.split(path.sep).includes(TRASH_DIR)) return 'already in the trash';
    try {
      const st = await fs.lstat(file);
      if (!st.isFile()) return 'not a regular file';
      // A symlinked folder must not lead the rename outside the root.
      if (!isInside(await fs.realpath(file), await fs.realpath(root.path))) return 'outside the asset roots';
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'no such file';
      throw err;
    }
    const loc = await this.deps.repo.location(file);
    if (loc?.present !== true) return 'not an indexed file';
    return { root: root.path, hash: loc.content_hash };
  }

  private journalFile(batch: string): string {
    return path.join(this.deps.journalDir, `${batch}.json`);
  }

  private async writeJournal(j: Journal): Promise<void> {
    await writeFileAtomic(this.journalFile(j.batch), `${JSON.stringify(j, null, 2)}\n`, 0o600);
  }

  private async readJournal(batch: string): Promise<Journal> {
    if (!BATCH.test(batch)) throw new AliceError(ErrorCode.INVALID_INPUT, `not a trash batch id: ${batch}`);
    try {
      return JSON.parse(await fs.readFile(this.journalFile(batch), 'utf8')) as Journal;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      throw new AliceError(ErrorCode.NOT_FOUND, `no trash batch ${batch}`, {
        hint: 'the batch id is printed when files are moved to the trash',
      });
    }
  }
}

/** `p`, or `p` with `-2`, `-3`… before the extension when that name is taken. */
export async function freeName(p: string): Promise<string> {
  const ext = path.extname(p);
  const base = p.slice(0, p.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? p : `${base}-${i}${ext}`;
    if (!(await exists(candidate))) return candidate;
  }
}
