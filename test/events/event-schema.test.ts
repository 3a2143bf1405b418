import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../src/events/event-bus.service.js';
import { readEvents } from '../../src/events/event-reader.service.js';
import { collect, makeHome } from './helpers.js';

// ajv arrives with @modelcontextprotocol/sdk; it is used here only to check the published schema.
const HASH = 'ef'.repeat(32);
const homes: string[] = [];
afterAll(async () => {
  await Promise.all(homes.map((h) => fsp.rm(h, { recursive: true, force: true })));
});

describe('docs/events.schema.json', () => {
  it('accepts every event the bus writes and rejects a malformed one', async () => {
    const schema: unknown = JSON.parse(
      await fsp.readFile(path.join(import.meta.dirname, '../../docs/events.schema.json'), 'utf8'),
    );
    const validate = new Ajv2020({ strict: false }).compile(schema as object);
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
    bus.emit('metadata.embedded', { ...asset, state: 'written', changes: ['keywords'] });
    bus.emit('integrity.failed', { ...asset, expected_hash: HASH, actual_hash: null, reason: 'unreadable' });
    bus.emit('root.offline', { root: '/r', reason: 'unmounted' });
    bus.emit('root.online', { root: '/r' });
    bus.emit('index.rebuilt', { assets: 3, roots: ['/r'], duration_ms: 12 });
    bus.emit('project.updated', { project: 'p', path: '/p/p.yaml', changes: ['assets'] });
    bus.emit('agent.started', { version: '0.1.0', roots: ['/r'] });
    bus.emit('agent.stopped', { reason: 'SIGTERM' });
    bus.emit('watcher.degraded', { root: '/r', reason: 'EMFILE', fallback: 'poll' });
    await bus.close();
    const events = await collect(readEvents({ home, backend: 'file', redisUrl: '', stream: '' }));
    expect(events).toHaveLength(16);
    for (const event of events)
      expect(validate(event), `${event.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
    const bad = {
      ...events[2]!,
      payload: { content_hash: HASH, root: '/r', media_type: 'image', path: '/r/b.png' },
    };
    expect(validate(bad)).toBe(false);
    expect(validate({ ...events[0]!, id: '17-1' })).toBe(false);
  });
});
