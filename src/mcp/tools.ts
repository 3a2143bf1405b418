/**
 * The MCP tools' handlers: each checks what only the MCP layer knows (paths confined to the roots,
 * limits capped by `mcp.max_results`), maps its arguments onto a library operation and shapes the
 * answer for an assistant. They hold nothing between calls; every operation opens and closes what
 * it needs (or runs in the agent).
 */
import type { z } from 'zod';
import { AliceError, ErrorCode, errorMessage, isAliceError } from '../domain/errors.js';
import type { AssetRecord } from '../services/search/assets.service.js';
import type { SearchResponse, SimilarResponse } from '../services/search/search.service.js';
import { assetRef } from './confine.js';
import type { McpEnv } from './mcp-env.js';
import { thumbnailContents, type McpContent } from './thumbnails.js';
import {
  DEFAULT_MCP_LIMIT,
  type ASSET_INPUT,
  type SELECT_INPUT,
  type TAG_INPUT,
  type searchInput,
  type similarInput,
} from './tool-inputs.js';

type Args<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;
export type SearchArgs = Args<ReturnType<typeof searchInput>>;
export type SimilarArgs = Args<ReturnType<typeof similarInput>>;
export type AssetArgs = Args<typeof ASSET_INPUT>;
export type TagArgs = Args<typeof TAG_INPUT>;
export type SelectArgs = Args<typeof SELECT_INPUT>;

/** A tool's answer: JSON data (sent as text) and, for searches, thumbnails after it. */
export interface ToolReply {
  data: unknown;
  extra?: McpContent[];
}

/** The limit actually used: the caller's, else the default, never above `mcp.max_results` (0: count only). */
export function cappedLimit(env: McpEnv, asked: number | undefined): number {
  return Math.max(0, Math.min(asked ?? DEFAULT_MCP_LIMIT, env.settings.max_results));
}

function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

export async function searchImages(env: McpEnv, args: SearchArgs): Promise<ToolReply> {
  const { thumbnails, limit: asked, ...filters } = args;
  const limit = cappedLimit(env, asked);
  const offset = args.offset ?? 0;
  const { result } = await env.invoke('search', defined({ ...filters, limit, offset }));
  const res = result as SearchResponse;
  const end = offset + res.results.length;
  const data = {
    total: res.total,
    offset,
    limit,
    next_offset: end < res.total ? end : null,
    results: res.results,
  };
  return { data, extra: thumbnails === true ? await thumbnailContents(env, res.results) : [] };
}

export async function findSimilar(env: McpEnv, args: SimilarArgs): Promise<ToolReply> {
  const ref = await assetRef(args, env.roots);
  const params = defined({
    ref,
    threshold: args.threshold,
    hash: args.hash,
    limit: cappedLimit(env, args.limit),
  });
  const res = (await env.invoke('similar', params)).result as SimilarResponse;
  return {
    data: res,
    extra: args.thumbnails === true ? await thumbnailContents(env, res.results) : [],
  };
}

export async function getAsset(env: McpEnv, args: AssetArgs): Promise<ToolReply> {
  const ref = await assetRef(args, env.roots);
  return { data: (await env.invoke('asset.show', { ref })).result };
}

function flatTags(record: AssetRecord): string[] {
  return record.tags.map((t) => `${t.category}:${t.value}`);
}

export async function tagAsset(env: McpEnv, args: TagArgs): Promise<ToolReply> {
  const ref = await assetRef(args, env.roots);
  const add = args.add ?? [];
  const remove = args.remove ?? [];
  if (add.length === 0 && remove.length === 0) {
    throw new AliceError(ErrorCode.INVALID_INPUT, 'nothing to do: give tags to add or remove');
  }
  const added = add.length > 0 ? (await env.invoke('tag.add', { refs: [ref], tags: add })).result : null;
  const removed =
    remove.length > 0 ? (await env.invoke('tag.remove', { refs: [ref], tags: remove })).result : null;
  const record = (await env.invoke('asset.show', { ref })).result as AssetRecord;
  return { data: { content_hash: record.content_hash, tags: flatTags(record), added, removed } };
}

export async function listProjects(env: McpEnv): Promise<ToolReply> {
  return { data: { projects: (await env.invoke('project.list', {})).result } };
}

export async function selectForProject(env: McpEnv, args: SelectArgs): Promise<ToolReply> {
  const ref = await assetRef(args, env.roots);
  const params = defined({ name: args.project, refs: [ref], why: args.reason, role: args.role });
  return { data: (await env.invoke('project.select', params)).result };
}

/** Index counts (read through the agent when it runs) and the agent's health from its status file. */
export async function indexStatus(env: McpEnv): Promise<ToolReply> {
  const agent = await env.agentHealth();
  let index: Record<string, unknown>;
  try {
    const { result, via } = await env.invoke('index.status', {});
    index = { exists: env.indexExists(), ...(result as Record<string, unknown>), read_via: via };
  } catch (err) {
    // Health must still be reported when the index cannot be read (locked, corrupt).
    index = {
      exists: env.indexExists(),
      error: isAliceError(err) ? `${err.code}: ${err.message}` : errorMessage(err),
    };
  }
  return { data: { index, agent } };
}
