import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers (docs/DESIGN.md): which top-level folders of src/ each folder may import from. Relative
 * imports only, so a rule is a regex on the path that climbs back to src/ (`../` once per level).
 * `types` lists folders that may be imported for their types only.
 */
const LAYERS = {
  domain: { allow: ['domain'] },
  config: { allow: ['config', 'domain'] },
  pipeline: { allow: ['pipeline', 'domain'] },
  adapters: { allow: ['adapters', 'domain', 'config', 'ports'] },
  events: { allow: ['events', 'adapters', 'domain', 'config', 'ports'] },
  services: { allow: ['services', 'adapters', 'domain', 'config', 'pipeline', 'ports', 'version'] },
  mcp: { allow: ['mcp', 'domain', 'config', 'version'], types: ['services', 'ports'] },
  web: { allow: ['web', 'domain', 'config', 'version'], types: ['services', 'ports'] },
  app: {
    allow: [
      'app',
      'services',
      'adapters',
      'events',
      'domain',
      'config',
      'pipeline',
      'mcp',
      'web',
      'ports',
      'version',
    ],
  },
  cli: {
    allow: ['cli', 'app', 'events', 'mcp', 'domain', 'config', 'ports', 'version'],
    types: ['services'],
  },
};
const TOP = [
  'adapters',
  'app',
  'cli',
  'config',
  'domain',
  'events',
  'mcp',
  'web',
  'pipeline',
  'services',
  'ports',
  'version',
  'index',
];
/** The domain is pure: no I/O modules. */
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:net',
  'node:os',
  'node:http',
  'node:https',
];

function target(name) {
  return ['ports', 'version', 'index'].includes(name) ? `${name}\\.js$` : `${name}/`;
}

function layerRules() {
  const configs = [];
  for (const [folder, { allow, types = [] }] of Object.entries(LAYERS)) {
    for (let depth = 1; depth <= 3; depth++) {
      const up = `^(\\.\\./){${depth}}`;
      const denied = TOP.filter((t) => !allow.includes(t) && !types.includes(t));
      const patterns = [
        {
          regex: `${up}(${denied.map(target).join('|')})`,
          message: `${folder}/ must not import this layer (see docs/DESIGN.md, "Layers")`,
        },
      ];
      if (types.length > 0)
        patterns.push({
          regex: `${up}(${types.map(target).join('|')})`,
          allowTypeImports: true,
          message: `${folder}/ may import only types from this layer (see docs/DESIGN.md, "Layers")`,
        });
      const paths =
        folder === 'domain' ? IO_MODULES.map((name) => ({ name, message: 'domain/ is pure: no I/O' })) : [];
      configs.push({
        files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
      });
    }
  }
  // Files at the root of src/: the shared ports are pure types over the domain.
  configs.push({
    files: ['src/ports.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\./(?!domain/)`,
              message: 'src/ports.ts depends on the domain only (see docs/DESIGN.md, "Layers")',
            },
          ],
        },
      ],
    },
  });
  return configs;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/out/**', 'bench/corpus/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...layerRules(),
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
