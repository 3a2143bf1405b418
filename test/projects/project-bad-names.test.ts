/**
 * Names with slashes, `..` or characters invalid in file names are refused (CLI), and paths from
 * remote callers (agent socket, MCP) are confined to the configured roots (operations in-process).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container } from '../../src/app/container.js';
import { runOperation, type OperationName } from '../../src/app/operations.js';
import { loadConfig } from '../../src/config/config.js';
import { NO_PROGRESS } from '../../src/ports.js';
import { makeTempDir, removeDir, writeImage } from '../helpers/fixtures.js';
import { makeProjectWorkspace, type JsonError, type ProjectWorkspace } from './helpers.js';

describe('project names and confinement', { timeout: 120_000 }, () => {
  let ws: ProjectWorkspace;
  let outside: string;

  beforeAll(async () => {
    ws = makeProjectWorkspace();
    outside = makeTempDir('alice-outside-');
    await writeImage(path.join(outside, 'x.png'), { seed: 5 });
    await writeImage(path.join(ws.lib, 'a.png'), { seed: 1 });
  });
  afterAll(() => {
    ws.cleanup();
    removeDir(outside);
  });

  it.each([['a/b'], ['..'], ['bad:name']])('create %j is refused with PROJECT_INVALID', async (name) => {
    const res = await ws.json<JsonError>(['project', 'create', name], 2);
    expect(res.error.code).toBe('PROJECT_INVALID');
    expect(res.error.message).toContain('invalid project name');
    expect(fs.readdirSync(ws.projects)).toEqual([]);
    expect(fs.existsSync(path.join(ws.dir, 'a'))).toBe(false);
  });

  it('show of a name with a slash is refused before any path is built', async () => {
    const r = await ws.alice('project', 'show', '../lib');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROJECT_INVALID');
  });

  describe('remote callers', () => {
    async function remote(op: OperationName, params: Record<string, unknown>): Promise<unknown> {
      const container = new Container(loadConfig({ configFile: ws.settingsFile, env: ws.env }));
      try {
        return await runOperation(
          { container, progress: NO_PROGRESS, cwd: ws.dir, remote: true },
          op,
          params,
        );
      } finally {
        await container.close();
      }
    }

    it('may use the project roots, but no folder or file outside the roots', async () => {
      await remote('project.create', { name: 'r' });
      await expect(remote('project.create', { name: 'r2', path: outside })).rejects.toMatchObject({
        code: 'OUTSIDE_ROOTS',
      });
      expect(fs.existsSync(path.join(outside, 'r2'))).toBe(false);
      await expect(
        remote('project.select', { name: 'r', refs: [path.join(outside, 'x.png')], why: 'w' }),
      ).rejects.toMatchObject({ code: 'OUTSIDE_ROOTS' });
      await expect(
        remote('project.export', { name: 'r', to: path.join(outside, 'out') }),
      ).rejects.toMatchObject({
        code: 'OUTSIDE_ROOTS',
      });
      expect(fs.existsSync(path.join(outside, 'out'))).toBe(false);
      const ok = (await remote('project.select', {
        name: 'r',
        refs: [path.join(ws.lib, 'a.png')],
        why: 'w',
      })) as {
        selected: number;
      };
      expect(ok.selected).toBe(1);
    });

    it('invalid names are PROJECT_INVALID through the operation table too', async () => {
      await expect(remote('project.show', { name: 'a\\b' })).rejects.toMatchObject({
        code: 'PROJECT_INVALID',
      });
    });
  });
});
