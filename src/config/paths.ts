/** Path helpers for settings: `~` expansion, resolution against a base, containment checks. */
import os from 'node:os';
import path from 'node:path';

export function expandHome(p: string, home = os.homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

export function resolveFrom(base: string, p: string): string {
  return path.resolve(base, expandHome(p));
}

/** True when `child` is `parent` or lies below it. Both must be absolute and normalised. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function defaultAliceHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['ALICE_HOME'];
  return fromEnv !== undefined && fromEnv !== ''
    ? path.resolve(expandHome(fromEnv))
    : path.join(os.homedir(), '.alice');
}
