/**
 * A file name can hold terminal control characters (ESC sequences, carriage return). Human output
 * shows them as \xNN instead of letting them act on the terminal; --json and --paths keep the
 * name exactly.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';

let ws: Workspace;
const NAME = 'red\u001b[31m-alert\r.png';

beforeAll(async () => {
  ws = makeWorkspace();
  await writeImage(path.join(ws.roots[0] as string, NAME), { seed: 901, size: 32 });
  const r = await runAlice(['index', 'update'], { env: ws.env });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => ws?.cleanup());

describe('names with control characters', { timeout: 60_000 }, () => {
  it('are escaped in human output and exact in --json and --paths', async () => {
    const human = await runAlice(['search', 'alert'], { env: ws.env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('red\\x1b[31m-alert\\x0d.png');
    expect(human.stdout.includes('\u001b') || human.stdout.includes('\r')).toBe(false);

    const json = await runAlice(['search', 'alert', '--json'], { env: ws.env });
    const res = json.json<{ results: { path: string }[] }>();
    expect(res.results.map((x) => path.basename(x.path))).toEqual([NAME]);

    const paths = await runAlice(['search', 'alert', '--paths'], { env: ws.env });
    expect(paths.stdout).toBe(`${path.join(ws.roots[0] as string, NAME)}\n`);
  });
});
