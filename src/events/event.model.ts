/**
 * The one event model shared by every backend (file log, Redis Streams) and every reader.
 * Pure: no I/O. The wire format is documented in docs/events.md and docs/events.schema.json.
 */
import type { MediaType } from '../domain/media.js';
import { isEventId } from './event-id.js';

/** Every event type alice emits. Consumers must ignore types they do not know. */
export const EventType = {
  ASSET_DISCOVERED: 'asset.discovered',
  ASSET_UPDATED: 'asset.updated',
  ASSET_MOVED: 'asset.moved',
  ASSET_DUPLICATE_FOUND: 'asset.duplicate_found',
  ASSET_MISSING: 'asset.missing',
  ASSET_RESTORED: 'asset.restored',
  ASSET_TAGGED: 'asset.tagged',
  METADATA_EMBEDDED: 'metadata.embedded',
  INTEGRITY_FAILED: 'integrity.failed',
  ROOT_OFFLINE: 'root.offline',
  ROOT_ONLINE: 'root.online',
  INDEX_REBUILT: 'index.rebuilt',
  PROJECT_UPDATED: 'project.updated',
  AGENT_STARTED: 'agent.started',
  AGENT_STOPPED: 'agent.stopped',
  WATCHER_DEGRADED: 'watcher.degraded',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(EventType));

/** True for a type this version of alice knows. */
export function isKnownEventType(type: string): type is EventType {
  return EVENT_TYPES.has(type);
}

/** Fields shared by the payloads about one asset. Paths are absolute. */
export interface AssetRef {
  content_hash: string;
  path: string;
  root: string;
  media_type: MediaType;
}

/** The payload of each event type. */
export interface EventPayloads {
  'asset.discovered': AssetRef & { size: number };
  /** `changes` lists what changed, e.g. `["tags", "description", "generation"]`. */
  'asset.updated': AssetRef & { changes: string[] };
  'asset.moved': Omit<AssetRef, 'path'> & { old_path: string; new_path: string };
  'asset.duplicate_found': AssetRef & { duplicate_of: string[] };
  'asset.missing': AssetRef;
  'asset.restored': AssetRef;
  'asset.tagged': AssetRef & { added: string[]; removed: string[] };
  'metadata.embedded': AssetRef & {
    state: 'written' | 'current' | 'sidecar_only' | 'failed';
    changes: string[];
  };
  'integrity.failed': AssetRef & { expected_hash: string; actual_hash: string | null; reason: string };
  'root.offline': { root: string; reason: string };
  'root.online': { root: string };
  'index.rebuilt': { assets: number; roots: string[]; duration_ms: number };
  'project.updated': { project: string; path: string; changes: string[] };
  'agent.started': { version: string; roots: string[] };
  'agent.stopped': { reason: string };
  'watcher.degraded': { root: string; reason: string; fallback: string };
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
