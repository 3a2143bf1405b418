/**
 * What understanding has spent so far: `$ALICE_HOME/state/understanding-spend.json`
 * (`{ spent_usd, requests, updated_at }`), written atomically and owner-only (0600). Reads of a
 * missing file give zero; an unreadable one is an error (spending must not restart from zero silently).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AliceError, ErrorCode, errnoCode } from '../domain/errors.js';
import type { SpendStore } from '../ports.js';
import { writeFileAtomic } from './fs.adapter.js';

export const SPEND_FILE = 'understanding-spend.json';

export class FileSpendStore implements SpendStore {
  private readonly file: string;
  /** Serialises read-modify-write within this process. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    stateDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.join(stateDir, SPEND_FILE);
  }

  async read(): Promise<{ spent_usd: number; requests: number }> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { spent_usd: 0, requests: 0 };
      throw err;
    }
    try {
      const data = JSON.parse(text) as { spent_usd?: unknown; requests?: unknown };
      const spent = typeof data.spent_usd === 'number' && data.spent_usd >= 0 ? data.spent_usd : NaN;
      const requests = typeof data.requests === 'number' ? data.requests : 0;
      if (Number.isNaN(spent)) throw new Error('no spent_usd');
      return { spent_usd: spent, requests };
    } catch {
      throw new AliceError(ErrorCode.CONFIG_INVALID, `${this.file} is not a valid spend record`, {
        hint: 'fix or remove it (removing it resets the understanding spend to zero)',
      });
    }
  }

  add(costUsd: number): Promise<{ spent_usd: number; requests: number }> {
    const next = this.chain.then(async () => {
      const cur = await this.read();
      const out = { spent_usd: cur.spent_usd + Math.max(0, costUsd), requests: cur.requests + 1 };
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(
        this.file,
        `${JSON.stringify({ ...out, updated_at: this.now().toISOString() }, null, 2)}\n`,
        0o600,
      );
      return out;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
