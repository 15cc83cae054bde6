// ESLint for the rules that catch real faults here, type-aware where the fault is in the types:
// floating promises (an unhandled rejection crashes a node), unused variables and imports, and
// imports that cross the package rules (packages/protocol/test/dependencyRules.test.ts holds
// the full table; this catches the commonest breach, a relative path into another package, in
// the editor). Formatting is Biome's (biome.json), not ESLint's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'packages/cli/bundle/**',
      '**/node_modules/**',
      'packages/protocol/src/generated/**',
      'data/**',
      '**/*.mjs',
      '**/*.js',
    ],
  },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'vitest.config.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: ['./tsconfig.eslint.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true, varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*/src/*', '../../../*/src/*', '../../../../*/src/*'],
              message: "import the @samsa package, not another package's files",
            },
          ],
        },
      ],
    },
  },
);
