/**
 * Crash loop: again and again, `alice watch` is killed with SIGKILL at a random moment while a
 * burst of images lands in its root, and started again. After a final start that settles and a
 * clean SIGTERM, every file is indexed exactly once, every sidecar parses and names the right hash,
 * no media file was changed (the watch pipeline does not embed) and they all still decode, and
 * `alice index verify --full` is clean.
 *
 * Sizes: 3 rounds × 150 files by default, 10 × 1,000 with RELIABILITY_SCALE=full.
 * The kill moments come from a seed printed at the start (repeat with RELIABILITY_SEED=<n>).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllAgents, readStatusFile, startAgent, type AgentProcess } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { imageBytes, seededRandom, sha256Of } from '../helpers/fixtures.js';
import { sidecarHashes } from '../helpers/library.js';
import {
  FULL,
  cleanupWorkspaces,
  expectIndexExactly,
  expectSidecarsValid,
  isAlive,
  runSeed,
  sized,
  sleep,
  workspace,
} from './helpers.js';

const ROUNDS = sized(3, 10);
const BURST = sized(150, 1000);
/** Files written per step of a burst, and the pause between steps: a burst lasts a few seconds. */
const STEP = sized(10, 25);
const STEP_MS = 150;

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Burst {
  files: string[];
  bytes: Buffer[];
}

/** One round's files: distinct noise PNGs, every tenth a copy of an earlier one (a duplicate). */
async function makeBurst(lib: string, round: number): Promise<Burst> {
  const files: string[] = [];
  const bytes: Buffer[] = [];
  for (let i = 0; i < BURST; i++) {
    files.push(path.join(lib, `round-${round}`, `d${i % 5}`, `f-${i}.png`));
    const dup = i % 10 === 9 ? bytes[i - 5] : undefined;
    bytes.push(dup ?? (await imageBytes('png', 100_000 * (round + 1) + i, 24)));
  }
  return { files, bytes };
}

/** Writes the burst in steps with pauses, so the agent works on it while more arrives. */
async function writeBurst(b: Burst): Promise<void> {
  for (let i = 0; i < b.files.length; i += STEP) {
    for (let j = i; j < Math.min(i + STEP, b.files.length); j++) {
      const f = b.files[j] as string;
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, b.bytes[j] as Buffer);
    }
    await sleep(STEP_MS);
  }
}

describe(`crash loop (${ROUNDS} × kill -9 during a ${BURST}-file burst)`, () => {
  it('converges: each file indexed once, sidecars valid, media untouched, verify --full clean', async () => {
    const seed = runSeed();
    const rnd = seededRandom(seed);
    console.log(`crash loop: RELIABILITY_SEED=${seed}${FULL ? ' (full scale)' : ''}`);
    const ws = workspace(['lib'], { pipeline: { batch_size: 40 } });
    const [lib] = ws.roots as [string];
    const expected = new Map<string, string>();
    const startTimeout = sized(120_000, 600_000);
    const burstMs = Math.ceil(BURST / STEP) * STEP_MS;
    const killedWith: number[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const burst = await makeBurst(lib, round);
      burst.files.forEach((f, i) => expected.set(f, sha256(burst.bytes[i] as Buffer)));
      const agent: AgentProcess = await startAgent(ws, { timeoutMs: startTimeout });
      const writing = writeBurst(burst);
      // Somewhere between the first files landing and the last ones.
      await sleep(Math.floor(burstMs * (0.1 + 0.85 * rnd())));
      killedWith.push(sidecarHashes(lib).length);
      const exit = await agent.stop('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      expect(isAlive(agent.pid)).toBe(false);
      await writing;
    }
    console.log(
      `crash loop: sidecars on disk at each kill: ${killedWith.join(', ')} of ${expected.size} files`,
    );

    // The final start catches up before it reports `watching`; a SIGTERM then drains and exits 0.
    const agent = await startAgent(ws, { timeoutMs: startTimeout });
    expect(readStatusFile(ws)?.state).toBe('watching');
    expect(await agent.stop('SIGTERM', 30_000)).toEqual({ code: 0, signal: null });

    const files = [...expected.keys()];
    await expectIndexExactly(ws, files);
    const distinct = [...new Set(expected.values())];
    expect(distinct.length).toBeLessThan(files.length); // the bursts held duplicates
    expectSidecarsValid(lib, distinct);

    // Watching never writes into media files: byte-identical, and every one still decodes.
    for (const [file, hash] of expected) expect(sha256Of(file), file).toBe(hash);
    for (const file of files) {
      const meta = await sharp(file).stats();
      expect(meta.channels.length, file).toBeGreaterThan(0);
    }

    const verify = await runAlice(['index', 'verify', '--full', '--json'], {
      env: ws.env,
      timeoutMs: sized(120_000, 600_000),
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.json<{ clean: boolean; files_checked: number }>()).toMatchObject({
      clean: true,
      files_checked: files.length,
    });
  });
});
