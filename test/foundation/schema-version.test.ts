/**
 * An index whose schema version this alice does not know (a newer alice wrote it) is never used:
 * opening it is INDEX_CORRUPT, and the agent's startup sets the file aside and rebuilds it, as
 * src/adapters/index/schema.ts promises.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/adapters/duckdb.adapter.js';
import { SCHEMA_VERSION, schemaVersion } from '../../src/adapters/index/schema.js';
import { Container } from '../../src/app/container.js';
import { buildIndex, checkIndex } from '../../src/app/index-startup.js';
import { ErrorCode } from '../../src/domain/errors.js';
import { NO_LOG, NO_PROGRESS } from '../../src/ports.js';
import { StatusService } from '../../src/services/watch/status.service.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';
import { configOf, rebuild } from '../helpers/library.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

async function setVersion(file: string, version: string): Promise<void> {
  const db = await openDb(file);
  await db.run(`INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)`, [version]);
  db.close();
}

describe('index schema version', () => {
  it('a newer (unknown) schema is refused, then set aside and rebuilt by the agent start', async () => {
    ws = makeWorkspace();
    await writeImage(path.join(ws.roots[0] as string, 'a.png'), { seed: 1 });
    expect((await rebuild(ws)).assets).toBe(1);
    await setVersion(ws.searchDb, String(SCHEMA_VERSION + 1));

    const container = new Container(configOf(ws));
    try {
      await expect(container.index()).rejects.toMatchObject({ code: ErrorCode.INDEX_CORRUPT });
      const status = new StatusService(path.join(ws.home, 'status.json'), () => Promise.resolve(), {
        pid: process.pid,
        version: 'test',
        started_at: new Date().toISOString(),
        home: ws.home,
        socket: path.join(ws.home, 'agent.sock'),
        index: ws.searchDb,
      });
      if (await checkIndex(container, NO_LOG, status))
        await buildIndex(container, NO_LOG, status, NO_PROGRESS);
      expect(await schemaVersion(await container.index())).toBe(SCHEMA_VERSION);
      expect((await (await container.repo()).counts()).assets).toBe(1);
      expect(status.doc.last_errors.map((e) => e.code)).toEqual([ErrorCode.INDEX_CORRUPT]);
    } finally {
      await container.close();
    }
    const aside = fs.readdirSync(path.dirname(ws.searchDb)).filter((n) => n.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
  });

  it('a read-only open refuses it too', async () => {
    ws = makeWorkspace();
    expect((await rebuild(ws)).assets).toBe(0);
    await setVersion(ws.searchDb, 'not a number');
    const container = new Container(configOf(ws), { readOnly: true });
    try {
      await expect(container.index()).rejects.toMatchObject({ code: ErrorCode.INDEX_CORRUPT });
    } finally {
      await container.close();
    }
  });
});
