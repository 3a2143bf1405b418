/**
 * Path confinement of the MCP tools on a real temp tree: relative paths, `..`, look-alike
 * sibling folders and symbolic links that lead out of a root are refused; files inside pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RootConfig } from '../../src/config/config.js';
import { AliceError } from '../../src/domain/errors.js';
import { assetRef, confinePath } from '../../src/mcp/confine.js';
import { errorText } from '../../src/mcp/server.js';
import { makeTempDir, removeDir } from '../helpers/fixtures.js';

let dir: string;
let roots: RootConfig[];
let lib: string;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AliceError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'no error';
}

beforeAll(() => {
  dir = makeTempDir('alice-mcp-confine-');
  lib = path.join(dir, 'lib');
  fs.mkdirSync(path.join(lib, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib-evil'));
  fs.writeFileSync(path.join(lib, 'sub', 'a.png'), 'a');
  fs.writeFileSync(path.join(dir, 'secret.png'), 's');
  fs.symlinkSync(path.join(dir, 'secret.png'), path.join(lib, 'link.png'));
  fs.symlinkSync(dir, path.join(lib, 'escape'));
  fs.symlinkSync(path.join(lib, 'sub', 'a.png'), path.join(lib, 'inner-link.png'));
  roots = [{ path: lib, kind: 'asset', isDefault: false }];
});

afterAll(() => removeDir(dir));

describe('confinePath', () => {
  it('accepts files inside a root, also missing ones (the operation reports those)', async () => {
    const inside = path.join(lib, 'sub', 'a.png');
    expect(await confinePath(inside, roots)).toBe(inside);
    expect(await confinePath(`${lib}/sub/../sub/a.png`, roots)).toBe(inside);
    expect(await confinePath(path.join(lib, 'inner-link.png'), roots)).toBe(path.join(lib, 'inner-link.png'));
    expect(await confinePath(path.join(lib, 'nope.png'), roots)).toBe(path.join(lib, 'nope.png'));
  });

  it('refuses paths outside every root, `..` escapes and look-alike siblings', async () => {
    for (const p of ['/etc/passwd', `${lib}/../secret.png`, path.join(dir, 'lib-evil', 'x.png'), dir]) {
      expect(await codeOf(confinePath(p, roots))).toMatch(
        /^OUTSIDE_ROOTS: path is outside the configured roots/,
      );
    }
  });

  it('refuses symbolic links that lead out of the root', async () => {
    expect(await codeOf(confinePath(path.join(lib, 'link.png'), roots))).toMatch(
      /^OUTSIDE_ROOTS: .*symbolic link/,
    );
    expect(await codeOf(confinePath(path.join(lib, 'escape', 'secret.png'), roots))).toMatch(
      /^OUTSIDE_ROOTS/,
    );
  });

  it('refuses relative paths: an MCP server has no meaningful working directory', async () => {
    expect(await codeOf(confinePath('sub/a.png', roots))).toMatch(/^INVALID_INPUT: path must be absolute/);
  });
});

describe('assetRef', () => {
  it('takes exactly one of content_hash and path', async () => {
    expect(await codeOf(assetRef({}, roots))).toMatch(/^INVALID_INPUT: give exactly one/);
    expect(await codeOf(assetRef({ content_hash: 'abcdef12', path: '/x' }, roots))).toMatch(/^INVALID_INPUT/);
    expect(await codeOf(assetRef({ content_hash: 'xyz' }, roots))).toMatch(/^INVALID_INPUT: content_hash/);
    expect(await assetRef({ content_hash: ' ABCDEF12 ' }, roots)).toBe('abcdef12');
    expect(await assetRef({ path: path.join(lib, 'sub', 'a.png') }, roots)).toBe(
      path.join(lib, 'sub', 'a.png'),
    );
  });
});

describe('errorText', () => {
  it('gives code, message, details and hint of an AliceError, and a plain message otherwise', () => {
    const err = new AliceError('NOT_FOUND', 'not in the library: x', { hint: 'run it', details: ['one'] });
    expect(errorText(err)).toBe('error [NOT_FOUND]: not in the library: x\n  - one\nhint: run it');
    expect(errorText(new Error('boom'))).toBe('error [INTERNAL]: boom');
  });
});
