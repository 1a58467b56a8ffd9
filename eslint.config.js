import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nodeOnly = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'events'];

/** Sources know databases, not how they are run: no Temporal, no worker layers, no destination. */
const sourceFence = [
  { group: ['@temporalio/*'], message: 'Source connectors do not depend on Temporal: activities adapt them to it.' },
  {
    regex: String.raw`^(\.\./)+(activities|workflows|cli|destinations|temporal|composition|worker)(/|\.js$)`,
    message: 'Source connectors import only src/model, src/errors, src/logger, src/util and src/sources.',
  },
];

/** One source kind never reaches into another's folder: what they share lives in src/sources. */
const otherSourceKind = (kind) => ({
  regex: String.raw`^(\.\./)+(sources/)?${kind}/`,
  message: `Share code between source kinds through src/sources, not by importing from ${kind}/.`,
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Dependency cycles through value imports (type-only imports are erased, so not counted).
    // The TypeScript resolver maps our `./x.js` specifiers to the `./x.ts` files; without the
    // parser setting import-x cannot read those files and silently finds no cycle at all.
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.check.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeOnly, message: 'Workflow code is deterministic: no Node built-ins.' },
            { group: ['pg', 'pg-*', 'mysql2', 'mysql2/*', '@vlasky/*', '@duckdb/*', '@temporalio/activity', '@temporalio/worker', '@temporalio/client'], message: 'Workflow code may not import drivers, DuckDB or non-workflow Temporal packages.' },
            { group: ['../sources/*', '../destinations/*', '../activities/*', '../cli/*', '../staging/*', '../config/*'], message: 'Workflows import only src/model and activity types.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  // Each files block sets the whole rule, so the kind folders repeat the sources fence.
  { files: ['src/sources/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: sourceFence }] } },
  { files: ['src/sources/postgres/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [...sourceFence, otherSourceKind('mysql')] }] } },
  { files: ['src/sources/mysql/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [...sourceFence, otherSourceKind('postgres')] }] } },
);
