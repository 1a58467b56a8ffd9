import tseslint from 'typescript-eslint';

const nodeOnly = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'events'];

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
);
