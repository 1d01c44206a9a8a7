// typescript-eslint with type information (STYLE habit 3). Run: pnpm lint
// One TypeScript program for the whole workspace (tsconfig.check.json): with `projectService` each of
// the ~50 package tsconfigs got its own program and type checker over the tfjs types, and `eslint .`
// ran out of the default heap after ~6 minutes; one program lints everything in ~40 s and ~750 MB.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/exp/**', 'bench/out/**', 'packages/engine-native/native/**', '**/*.config.ts', 'vitest.setup.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // tfjs and zod types are wide; these rules flag correct code there
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // the dashboard page is browser code: its own program (DOM types, no node)
    files: ['packages/ui/page/**/*.ts'],
    languageOptions: { parserOptions: { project: './packages/ui/page/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    // so is the browser-search example's page
    files: ['examples/browser-search/page/**/*.ts'],
    languageOptions: { parserOptions: { project: './examples/browser-search/page/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', performance: 'readonly', setTimeout: 'readonly' } },
  },
);
