/**
 * The event types alice publishes and the payload of each: the wire contract documented in
 * docs/events.md and docs/events.schema.json. Pure types, in the domain so that the shared
 * `EventSink` port (src/ports.ts) and every emitter are checked against it.
 */
import type { MediaType } from './media.js';

/** Every event type alice emits. Consumers must ignore types they do not know. */
export const EventType = {
  ASSET_DISCOVERED: 'asset.discovered',
  ASSET_UPDATED: 'asset.updated',
  ASSET_MOVED: 'asset.moved',
  ASSET_DUPLICATE_FOUND: 'asset.duplicate_found',
  ASSET_MISSING: 'asset.missing',
  ASSET_RESTORED: 'asset.restored',
  ASSET_TAGGED: 'asset.tagged',
  ASSET_UNDERSTOOD: 'asset.understood',
  ASSET_PRUNED: 'asset.pruned',
  METADATA_EMBEDDED: 'metadata.embedded',
  INTEGRITY_FAILED: 'integrity.failed',
  ROOT_OFFLINE: 'root.offline',
  ROOT_ONLINE: 'root.online',
  INDEX_REBUILT: 'index.rebuilt',
  INDEX_DAMAGED: 'index.damaged',
  PROJECT_UPDATED: 'project.updated',
  AGENT_STARTED: 'agent.started',
  AGENT_STOPPED: 'agent.stopped',
  WATCHER_DEGRADED: 'watcher.degraded',
  SAFETY_REFUSED: 'safety.refused',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

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
  /** `derived_from`: the content this one replaced, when a file was edited outside alice. */
  'asset.updated': AssetRef & { changes: string[]; derived_from?: string };
  /** `root` is the new root; `old_root` the one it left. */
  'asset.moved': Omit<AssetRef, 'path'> & { old_path: string; new_path: string; old_root?: string };
  'asset.duplicate_found': AssetRef & { duplicate_of: string[] };
  'asset.missing': AssetRef;
  'asset.restored': AssetRef;
  'asset.tagged': AssetRef & { added: string[]; removed: string[] };
  /** A vision model described the asset (`alice understand`, or the agent's lane). */
  'asset.understood': AssetRef & { provider: string; model: string; cost_usd: number; tags: string[] };
  /**
   * `alice index prune` removed a ghost (every file gone, no selection names it) from the index;
   * `sidecars`: where its sidecars went (the trash).
   */
  'asset.pruned': { content_hash: string; last_path: string | null; sidecars: string[] };
  'metadata.embedded': AssetRef & {
    state: 'written' | 'current' | 'sidecar_only' | 'failed';
    changes: string[];
  };
  'integrity.failed': AssetRef & { expected_hash: string; actual_hash: string | null; reason: string };
  'root.offline': { root: string; reason: string };
  'root.online': { root: string };
  'index.rebuilt': { assets: number; roots: string[]; duration_ms: number };
  /** The index could not be read (truncated, garbage, torn WAL): set aside as `kept_as`, rebuilt. */
  'index.damaged': { index: string; kept_as: string; error: string };
  'project.updated': { project: string; path: string; changes: string[] };
  'agent.started': { version: string; roots: string[] };
  /** `drained`: every queued path was indexed before it stopped. */
  'agent.stopped': { reason: string; drained?: boolean };
  /** `hint`: what the user can do about it (e.g. raise the inotify watch limit). */
  'watcher.degraded': { root: string; reason: string; fallback: string; hint?: string };
  /** A safety check refused a change, e.g. `kind: 'mass_delete'` with how many files it would mark. */
  'safety.refused': {
    kind: 'mass_delete';
    root: string;
    reason: string;
    would_mark: number;
    present: number;
  };
}
