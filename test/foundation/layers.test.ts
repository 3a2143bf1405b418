/**
 * The layers of docs/DESIGN.md are enforced by `no-restricted-imports` in eslint.config.js: an
 * upward import fails lint, and the tree as it is passes. Runs ESLint with the project's config,
 * only that rule (the type-aware rules are the slow part and are checked by `npm run lint`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function layerLint(): ESLint {
  return new ESLint({
    cwd: root,
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: [{ languageOptions: { parserOptions: { projectService: false } } }],
  });
}

/** Lints `text` as if it were the file `rel` (an existing file, so the config applies as in the tree). */
async function restricted(rel: string, extra: string): Promise<string[]> {
  const file = path.join(root, rel);
  const text = `${extra}\n${fs.readFileSync(file, 'utf8')}`;
  const [result] = await layerLint().lintText(text, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it('rejects an upward import from the domain (even of types) and I/O in the domain', async () => {
    expect(
      await restricted(
        'src/domain/csv.ts',
        "import type { ScanSummary } from '../services/scan/scan.service.js';",
      ),
    ).toEqual([expect.stringContaining('domain/ must not import this layer')]);
    expect(
      await restricted('src/domain/generation/common.ts', "import { NO_LOG } from '../../ports.js';"),
    ).toEqual([expect.stringContaining('domain/ must not import this layer')]);
    expect(await restricted('src/domain/csv.ts', "import fs from 'node:fs';")).toEqual([
      expect.stringContaining('domain/ is pure'),
    ]);
    // Inside the domain is fine.
    expect(
      await restricted('src/domain/generation/common.ts', "import { parseCsv } from '../csv.js';"),
    ).toEqual([]);
  });

  it('rejects adapters importing services or app, services importing app or cli', async () => {
    expect(
      await restricted('src/adapters/fs.adapter.ts', "import { Container } from '../app/container.js';"),
    ).toEqual([expect.stringContaining('adapters/ must not import')]);
    expect(
      await restricted(
        'src/adapters/index/rows.ts',
        "import { ScanService } from '../../services/scan/scan.service.js';",
      ),
    ).toEqual([expect.stringContaining('adapters/ must not import')]);
    expect(
      await restricted(
        'src/services/scan/scan.service.ts',
        "import { Container as C2 } from '../../app/container.js';",
      ),
    ).toEqual([expect.stringContaining('services/ must not import')]);
  });

  it('lets the CLI reach adapters only through app/, and services for their types only', async () => {
    expect(
      await restricted('src/cli/render.ts', "import { thumbnail } from '../adapters/sharp.adapter.js';"),
    ).toEqual([expect.stringContaining('cli/ must not import')]);
    expect(
      await restricted(
        'src/cli/commands/show.command.ts',
        "import { readStatus } from '../../services/watch/status.service.js';",
      ),
    ).toEqual([expect.stringContaining('cli/ may import only types')]);
    expect(
      await restricted(
        'src/cli/commands/show.command.ts',
        "import type { StatusDoc } from '../../services/watch/status.service.js';",
      ),
    ).toEqual([]);
  });

  it('passes on the tree', async () => {
    const results = await layerLint().lintFiles(['src']);
    const problems = results.flatMap((r) =>
      r.messages.map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.message}`),
    );
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  }, 600_000); // the whole tree, parsed on a loaded machine
});
