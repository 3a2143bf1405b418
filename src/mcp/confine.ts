/**
 * Paths from an MCP client are untrusted: they must name something inside the configured roots,
 * also after symbolic links are followed, before any operation sees them. The operations confine
 * remote callers too; this check runs first so every tool refuses the same way, whether the agent
 * or this process runs the operation.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RootConfig } from '../config/config.js';
import { expandHome, isInside } from '../config/paths.js';
import { AliceError, ErrorCode, errnoCode } from '../domain/errors.js';

/** A content hash or a unique prefix of one (what `alice show` accepts). */
export const HASH_REF = /^[0-9a-fA-F]{8,64}$/;

function outside(file: string, roots: readonly RootConfig[], how = ''): AliceError {
  return new AliceError(ErrorCode.OUTSIDE_ROOTS, `path is outside the configured roots${how}: ${file}`, {
    hint: `only files below the configured roots can be used: ${roots.map((r) => r.path).join(', ')}`,
  });
}

async function realOrSelf(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Returns the absolute, normalised path when it lies inside a root; throws INVALID_INPUT for a
 * relative path (an MCP server has no meaningful working directory) and OUTSIDE_ROOTS otherwise.
 */
export async function confinePath(raw: string, roots: readonly RootConfig[]): Promise<string> {
  const expanded = expandHome(raw.trim());
  if (!path.isAbsolute(expanded) || expanded.includes('\0')) {
    throw new AliceError(ErrorCode.INVALID_INPUT, `path must be absolute: ${raw}`, {
      hint: 'give the full path of a file inside a configured root, or its content_hash',
    });
  }
  const file = path.resolve(expanded);
  if (!roots.some((r) => isInside(file, r.path))) throw outside(file, roots);
  const real = await realOrSelf(file);
  // A file that does not exist is reported by the operation itself (NOT_FOUND).
  if (real === undefined) return file;
  const realRoots = await Promise.all(roots.map(async (r) => (await realOrSelf(r.path)) ?? r.path));
  if (!realRoots.some((r) => isInside(real, r))) throw outside(file, roots, ' (through a symbolic link)');
  return file;
}

/** Exactly one of `content_hash` and `path`, as the reference string operations take. */
export async function assetRef(
  args: { content_hash?: string | undefined; path?: string | undefined },
  roots: readonly RootConfig[],
): Promise<string> {
  const { content_hash: hash, path: file } = args;
  if ((hash === undefined) === (file === undefined)) {
    throw new AliceError(ErrorCode.INVALID_INPUT, 'give exactly one of content_hash or path');
  }
  if (hash !== undefined) {
    if (!HASH_REF.test(hash.trim()))
      throw new AliceError(ErrorCode.INVALID_INPUT, `content_hash must be 8 to 64 hex digits: ${hash}`);
    return hash.trim().toLowerCase();
  }
  return confinePath(file ?? '', roots);
}
