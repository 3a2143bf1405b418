import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../src/events/event-bus.service.js';
import { readEvents } from '../../src/events/event-reader.service.js';
import { FAST_AGENT_SETTINGS, killAllAgents, readEvents as readLog, startAgent } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { makeWorkspace, writeImage, type Workspace } from '../helpers/fixtures.js';
import { collect, makeHome } from './helpers.js';

// ajv and ajv-formats arrive with @modelcontextprotocol/sdk; used here only to check the published schema.
const HASH = 'ef'.repeat(32);
const homes: string[] = [];
const spaces: Workspace[] = [];
afterAll(async () => {
  await killAllAgents();
  for (const ws of spaces) ws.cleanup();
  await Promise.all(homes.map((h) => fsp.rm(h, { recursive: true, force: true })));
});

function compileSchema(): ReturnType<Ajv2020['compile']> {
  const schema: unknown = JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, '../../docs/events.schema.json'), 'utf8'),
  );
  const ajv = new Ajv2020({ strict: false });
  // ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
  const addFormats = (addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default;
  addFormats(ajv);
  return ajv.compile(schema as object);
}

describe('docs/events.schema.json', () => {
  it('accepts every event the bus writes and rejects a malformed one', async () => {
    const validate = compileSchema();
    const home = await makeHome();
    homes.push(home);
    const bus = await createEventBus({
      home,
      backend: 'file',
      redisUrl: 'redis://127.0.0.1:6379',
      stream: 's',
      maxLen: 10,
      retentionDays: 30,
    });
    const asset = { content_hash: HASH, path: '/r/a.png', root: '/r', media_type: 'image' } as const;
    bus.emit('asset.discovered', { ...asset, size: 1 });
    bus.emit('asset.updated', { ...asset, changes: ['tags'] });
    bus.emit('asset.moved', {
      content_hash: HASH,
      root: '/r',
      media_type: 'image',
      old_path: '/r/a.png',
      new_path: '/r/b.png',
    });
    bus.emit('asset.duplicate_found', { ...asset, duplicate_of: ['/r/c.png'] });
    bus.emit('asset.missing', asset);
    bus.emit('asset.restored', asset);
    bus.emit('asset.tagged', { ...asset, added: ['style:noir'], removed: [] });
    bus.emit('asset.pruned', {
      content_hash: HASH,
      last_path: '/r/a.png',
      sidecars: ['/r/.alice-trash/x.json'],
    });
    bus.emit('asset.pruned', { content_hash: HASH, last_path: null, sidecars: [] });
    bus.emit('metadata.embedded', { ...asset, state: 'written', changes: ['keywords'] });
    bus.emit('integrity.failed', { ...asset, expected_hash: HASH, actual_hash: null, reason: 'unreadable' });
    bus.emit('root.offline', { root: '/r', reason: 'unmounted' });
    bus.emit('root.online', { root: '/r' });
    bus.emit('index.rebuilt', { assets: 3, roots: ['/r'], duration_ms: 12 });
    bus.emit('project.updated', { project: 'p', path: '/p/p.yaml', changes: ['assets'] });
    bus.emit('agent.started', { version: '0.1.0', roots: ['/r'] });
    bus.emit('agent.stopped', { reason: 'SIGTERM' });
    bus.emit('watcher.degraded', { root: '/r', reason: 'EMFILE', fallback: 'poll' });
    bus.emit('safety.refused', {
      kind: 'mass_delete',
      root: '/r',
      reason: 'would mark 9 of 10 files missing',
      would_mark: 9,
      present: 10,
    });
    await bus.close();
    const events = await collect(readEvents({ home, backend: 'file', redisUrl: '', stream: '' }));
    expect(events).toHaveLength(19);
    for (const event of events)
      expect(validate(event), `${event.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
    const bad = {
      ...events[2]!,
      payload: { content_hash: HASH, root: '/r', media_type: 'image', path: '/r/b.png' },
    };
    expect(validate(bad)).toBe(false);
    expect(validate({ ...events[0]!, id: '17-1' })).toBe(false);
  });

  it('accepts the events of real runs: index update, edit, move, missing, tag, project, rebuild, agent', async () => {
    // The built binary on a real library; every event it logs must validate.
    const ws = makeWorkspace({ settings: FAST_AGENT_SETTINGS });
    spaces.push(ws);
    const root = ws.roots[0] as string;
    const env = ws.env;
    const alice = async (...args: string[]): Promise<void> => {
      const r = await runAlice([...args, '--json'], { env, timeoutMs: 120_000 });
      expect(r.code, `alice ${args.join(' ')}: ${r.stderr}`).toBe(0);
    };
    for (let i = 1; i <= 8; i++) await writeImage(path.join(root, `p${i}.png`), { seed: i });
    await writeImage(path.join(root, 'copy-of-p1.png'), { seed: 1 });
    await alice('index', 'update');
    await writeImage(path.join(root, 'p2.png'), { seed: 20 }); // an outside edit
    fs.mkdirSync(path.join(root, 'sub'));
    fs.renameSync(path.join(root, 'p3.png'), path.join(root, 'sub', 'p3.png')); // a move
    fs.rmSync(path.join(root, 'p4.png')); // a missing file
    await alice('index', 'update');
    await alice('tag', 'add', path.join(root, 'p5.png'), '--tag', 'style:noir');
    ws.writeSettings({ ...FAST_AGENT_SETTINGS, storage: { project_paths: ['projects'] } });
    fs.mkdirSync(path.join(ws.dir, 'projects'));
    await alice('project', 'create', 'film');
    await alice('project', 'select', 'film', path.join(root, 'p6.png'), '--why', 'the opening shot');
    await alice('index', 'rebuild');
    const agent = await startAgent(ws, { timeoutMs: 60_000 });
    expect((await agent.stop('SIGTERM', 60_000)).code).toBe(0);

    const events = readLog(ws);
    const validate = compileSchema();
    for (const event of events)
      expect(validate(event), `${event.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
    const seen = new Set(events.map((e) => e.type));
    for (const type of [
      'asset.discovered',
      'asset.duplicate_found',
      'asset.updated',
      'asset.moved',
      'asset.missing',
      'asset.tagged',
      'project.updated',
      'index.rebuilt',
      'agent.started',
      'agent.stopped',
    ])
      expect(seen, `no ${type} among ${[...seen].join(', ')}`).toContain(type);
    expect(events.find((e) => e.type === 'agent.stopped')?.payload).toMatchObject({ reason: 'SIGTERM' });
  }, 600_000);
});
