/**
 * The one event model shared by every backend (file log, Redis Streams) and every reader.
 * Pure: no I/O. The wire format is documented in docs/events.md and docs/events.schema.json.
 */
import { EventType, type EventPayloads } from '../domain/event-types.js';
import { isEventId } from './event-id.js';

export { EventType, type AssetRef, type EventPayloads } from '../domain/event-types.js';

const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(EventType));

/** True for a type this version of alice knows. */
export function isKnownEventType(type: string): type is EventType {
  return EVENT_TYPES.has(type);
}

/** One event. `id` sorts in emit order; see docs/events.md for its format. */
export interface AliceEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  /** Wall-clock time of the emit, ISO 8601 UTC. */
  time: string;
  host: string;
  pid: number;
  payload: EventPayloads[T];
}

/**
 * Checks the envelope of a parsed JSON value. Payloads are not checked: a reader must accept
 * events from newer producers, whose payloads may carry more fields or unknown types.
 */
export function isAliceEvent(value: unknown): value is AliceEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['id'] === 'string' &&
    isEventId(v['id']) &&
    typeof v['type'] === 'string' &&
    typeof v['time'] === 'string' &&
    typeof v['host'] === 'string' &&
    typeof v['pid'] === 'number' &&
    typeof v['payload'] === 'object' &&
    v['payload'] !== null
  );
}

/** A one-line human rendering: `<time> <type> <hash-prefix or root> <path>`. */
export function formatEvent(event: AliceEvent): string {
  const p = event.payload as unknown as Record<string, unknown>;
  const parts: string[] = [event.time, event.type];
  const hash = p['content_hash'];
  if (typeof hash === 'string') parts.push(hash.slice(0, 12));
  if (typeof p['old_path'] === 'string' && typeof p['new_path'] === 'string') {
    parts.push(`${p['old_path']} -> ${p['new_path']}`);
  } else if (typeof p['path'] === 'string') {
    parts.push(p['path']);
  } else if (typeof p['root'] === 'string') {
    parts.push(p['root']);
  }
  if (Array.isArray(p['changes']) && p['changes'].length > 0) parts.push(`[${p['changes'].join(', ')}]`);
  if (typeof p['reason'] === 'string') parts.push(`(${p['reason']})`);
  return parts.join('  ');
}
