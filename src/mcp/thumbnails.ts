/**
 * Thumbnails as MCP image content, so the assistant can see what it found. Bounded by count
 * (`mcp.thumbnails`) and size (`mcp.thumbnail_px`, clamped again by the sharp adapter); a file
 * that cannot be decoded gets a line saying so instead of failing the whole call.
 */
import type { McpEnv } from './mcp-env.js';

export type McpContent = { type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string };

/** What a search or similarity result must carry to get a thumbnail. */
export interface Thumbnailable {
  content_hash: string;
  path: string | null;
  media_type: string;
}

/** Images only: videos would need a frame grab (ffmpeg), which the MCP server does not rely on. */
export async function thumbnailContents(env: McpEnv, items: readonly Thumbnailable[]): Promise<McpContent[]> {
  const out: McpContent[] = [];
  const max = env.settings.thumbnails;
  let made = 0;
  for (const item of items) {
    if (made >= max) break;
    if (item.media_type !== 'image' || item.path === null) continue;
    const t = await env.thumbnail(item.path, env.settings.thumbnail_px);
    if (!t.ok) {
      out.push({ type: 'text', text: `no thumbnail for ${item.content_hash}: ${t.reason}` });
      continue;
    }
    made++;
    out.push(
      { type: 'text', text: `thumbnail ${made}: ${item.content_hash} ${item.path}` },
      { type: 'image', data: t.data.toString('base64'), mimeType: t.mime },
    );
  }
  return out;
}
