/**
 * A root has an identity: a marker file alice keeps in the root (`.metadata/root-id`, a random
 * id) and the device it was seen on, remembered in `$ALICE_HOME/state/roots.json`. A folder that
 * is there is not enough to call a root online: an unmounted disk leaves its mount point behind as
 * an empty folder on another device, and treating that as the root would mark every asset missing.
 *
 * Online: the marker is there (and is the one remembered). Offline, whatever the root's size:
 * - the folder cannot be reached (gone, not a folder, permission denied);
 * - the marker is gone and the folder is on another device than the one remembered (an unmounted
 *   disk, a dropped share);
 * - the marker is gone, or was never written, and the folder is empty while the index holds files
 *   under it (a root that went from N files to 0);
 * - the folder holds another library's marker.
 * A folder on the same device whose marker is gone but which holds files was replaced (restored
 * from a backup, re-created): it is adopted with a new marker, and the scan decides file by file.
 * Nothing under an offline root is marked missing until it comes back or the user says it is gone
 * (`alice root forget <path>`).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, errorMessage } from '../../domain/errors.js';

export const ROOT_MARKER = path.join('.metadata', 'root-id');

export interface RootCheck {
  online: boolean;
  /** Why it is offline, naming what was seen (for status, logs and `root.offline`). */
  reason?: string;
  dev?: number;
  ino?: number;
  id?: string;
}

interface Known {
  id: string;
  dev: number;
}

type WriteFile = (file: string, data: string, mode: number) => Promise<void>;

export class RootIdentityStore {
  /**
   * `file` undefined: nothing is remembered or written (dry runs, read-only commands); a root is
   * then judged by its marker and contents only.
   */
  constructor(
    private readonly file: string | undefined,
    private readonly write: WriteFile,
  ) {}

  private async load(): Promise<Record<string, Known>> {
    if (this.file === undefined) return {};
    try {
      const doc = JSON.parse(await fs.readFile(this.file, 'utf8')) as { roots?: Record<string, Known> };
      return doc.roots ?? {};
    } catch {
      return {};
    }
  }

  private async save(roots: Record<string, Known>): Promise<void> {
    if (this.file === undefined) return;
    await this.write(this.file, `${JSON.stringify({ roots }, null, 2)}\n`, 0o600);
  }

  /**
   * Judges `root` (see the file comment). `indexed`: how many present files the index holds under
   * it. `claim`: write the marker and remember the root when it is judged online without one.
   */
  async check(root: string, indexed: number, claim: boolean): Promise<RootCheck> {
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { online: false, reason: 'the folder does not exist' };
      return { online: false, reason: `cannot reach the folder (${errnoCode(err) ?? errorMessage(err)})` };
    }
    if (!st.isDirectory()) return { online: false, reason: 'not a folder' };
    const roots = await this.load();
    const known = roots[root];
    const marker = path.join(root, ROOT_MARKER);
    let id: string | undefined;
    try {
      id = (await fs.readFile(marker, 'utf8')).trim();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR')
        return { online: false, reason: `cannot read its marker ${ROOT_MARKER} (${errnoCode(err) ?? ''})` };
    }
    const base = { dev: st.dev, ino: st.ino };
    if (id !== undefined && id !== '') {
      if (known !== undefined && known.id !== id)
        return {
          online: false,
          ...base,
          reason: `it holds another library's marker (root id ${id}, expected ${known.id}); \`alice root forget ${root}\` adopts it`,
        };
      if (claim && (known === undefined || known.dev !== st.dev)) {
        roots[root] = { id, dev: st.dev };
        await this.save(roots);
      }
      return { online: true, ...base, id };
    }
    if (known !== undefined && known.dev !== st.dev)
      return {
        online: false,
        ...base,
        reason: `its marker ${ROOT_MARKER} is gone and the folder is on another device (${st.dev}, was ${known.dev}): an unmounted disk?`,
      };
    if (indexed > 0 && (await isEmptyFolder(root)))
      return {
        online: false,
        ...base,
        reason: `the folder is empty where the index holds ${indexed} files, and ${ROOT_MARKER} is ${known === undefined ? 'not there' : 'gone'}: an unmounted disk?`,
      };
    if (!claim) return { online: true, ...base };
    const fresh = randomUUID();
    await fs.mkdir(path.dirname(marker), { recursive: true });
    await this.write(marker, `${fresh}\n`, 0o644);
    roots[root] = { id: fresh, dev: st.dev };
    await this.save(roots);
    return { online: true, ...base, id: fresh };
  }

  /** Forgets what was remembered of `root` (its next check adopts whatever marker it finds). */
  async forget(root: string): Promise<boolean> {
    const roots = await this.load();
    if (roots[root] === undefined) return false;
    delete roots[root];
    await this.save(roots);
    return true;
  }
}

/** Nothing in it but (possibly) an empty `.metadata`. */
async function isEmptyFolder(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir);
  if (names.length === 0) return true;
  if (names.length > 1 || names[0] !== '.metadata') return false;
  return (await fs.readdir(path.join(dir, '.metadata')).catch(() => [])).length === 0;
}
