import { describe, expect, it } from 'vitest';
import { EventIdGenerator, isEventId, lowerBoundId } from '../../src/events/event-id.js';
import { decodeEventLine, decodeEventLines, encodeEventLine } from '../../src/events/event-line.js';
import { compileQuery, RecentIds } from '../../src/events/event-query.js';
import { eventSettingsFromEnv, EVENT_SETTINGS_DEFAULTS } from '../../src/events/event-settings.js';
import { type AliceEvent, formatEvent } from '../../src/events/event.model.js';
import { AliceError } from '../../src/domain/errors.js';

function event(id: string, type: AliceEvent['type'] = 'root.online'): AliceEvent {
  return { id, type, time: '2024-06-10T08:00:00.000Z', host: 'h', pid: 1, payload: { root: '/r' } };
}

describe('event ids', () => {
  it('are fixed width, sortable and strictly increasing within one millisecond', () => {
    const gen = new EventIdGenerator(() => 1_718_000_000_000, 'ab12');
    const ids = Array.from({ length: 5 }, () => gen.next());
    expect(ids.every(isEventId)).toBe(true);
    expect(ids[0]).toBe('1718000000000-000000-ab12');
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });

  it('never go backwards when the wall clock does, and continue after a seed', () => {
    let now = 2000;
    const gen = new EventIdGenerator(() => now, '0001');
    const a = gen.next();
    now = 1000;
    const b = gen.next();
    expect(b > a).toBe(true);
    const restarted = new EventIdGenerator(() => 1000, 'ffff');
    restarted.seed(b);
    expect(restarted.next() > b).toBe(true);
  });

  it('borrows the next millisecond when the sequence overflows', () => {
    const gen = new EventIdGenerator(() => 5, '0001');
    gen.seed('0000000000005-999999-0001');
    expect(gen.next()).toBe('0000000000006-000000-0001');
  });
});

describe('event lines', () => {
  it('round-trip, skip a final line without newline, and recover an event glued to a torn fragment', () => {
    const a = encodeEventLine(event('1718000000000-000000-ab12'));
    const b = encodeEventLine(event('1718000000000-000001-ab12'));
    const torn = a.slice(0, 40);
    const decoded = decodeEventLines(a + torn + b + b.slice(0, 30));
    expect(decoded.events.map((e) => e.id)).toEqual([
      '1718000000000-000000-ab12',
      '1718000000000-000001-ab12',
    ]);
    expect(decoded.skipped).toBe(1);
    expect(decodeEventLine('{"id":"x"}')).toBeUndefined();
    expect(decodeEventLine('not json')).toBeUndefined();
  });
});

describe('queries', () => {
  it('filter by id (exclusive), by time (inclusive) and by type or type prefix', () => {
    const byId = compileQuery({ since: '1718000000000-000001-ab12' });
    expect(byId.matches(event('1718000000000-000001-ab12'))).toBe(false);
    expect(byId.matches(event('1718000000000-000002-0000'))).toBe(true);
    const byTime = compileQuery({ since: new Date(1_718_000_000_000).toISOString() });
    expect(byTime.matches(event(lowerBoundId(1_718_000_000_000)))).toBe(true);
    expect(byTime.matches(event('1717999999999-999999-ffff'))).toBe(false);
    const byType = compileQuery({ types: ['asset.*', 'root.offline'] });
    expect(byType.matches(event('1718000000000-000000-ab12', 'asset.moved'))).toBe(true);
    expect(byType.matches(event('1718000000000-000000-ab12', 'root.online'))).toBe(false);
    expect(() => compileQuery({ since: 'yesterday-ish' })).toThrow(AliceError);
  });

  it('drop repeated ids', () => {
    const recent = new RecentIds(2);
    expect([recent.add('a'), recent.add('a'), recent.add('b'), recent.add('c'), recent.add('a')]).toEqual([
      true,
      false,
      true,
      true,
      true,
    ]);
  });

  it('render a readable line', () => {
    const line = formatEvent({
      ...event('1718000000000-000000-ab12', 'asset.moved'),
      payload: {
        content_hash: 'a'.repeat(64),
        root: '/r',
        media_type: 'image',
        old_path: '/r/a.png',
        new_path: '/r/b.png',
      },
    });
    expect(line).toContain('asset.moved');
    expect(line).toContain('/r/a.png -> /r/b.png');
  });
});

describe('eventSettingsFromEnv', () => {
  it('defaults to the file backend', () => {
    expect(eventSettingsFromEnv({})).toEqual(EVENT_SETTINGS_DEFAULTS);
  });

  it('lets the environment switch to redis and override url and stream', () => {
    const s = eventSettingsFromEnv(
      { USE_REDIS_EVENTS: 'true', REDIS_URL: 'redis://10.0.0.2:6380', ALICE_EVENTS_STREAM: 'lib:events' },
      { max_len: 5000 },
    );
    expect(s).toMatchObject({
      backend: 'redis',
      redisUrl: 'redis://10.0.0.2:6380',
      stream: 'lib:events',
      maxLen: 5000,
    });
    expect(eventSettingsFromEnv({ USE_REDIS_EVENTS: 'false' }, { backend: 'redis' }).backend).toBe('file');
  });

  it('reports every invalid value at once', () => {
    try {
      eventSettingsFromEnv({ USE_REDIS_EVENTS: 'maybe', REDIS_URL: 'http://x' }, { retention_days: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AliceError);
      expect((err as AliceError).details).toHaveLength(3);
    }
  });
});
