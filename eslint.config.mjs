// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // House rule (ARCHITECTURE.md §1): libs never import apps.
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**', 'apps/*'], message: 'libs never import apps' }] },
      ],
    },
  },
  {
    // BullMQ is reached only through libs/queue and the worker's processor (ARCHITECTURE.md §1).
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    ignores: ['libs/queue/**', 'apps/worker/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'bullmq', message: 'use @cronbundle/queue' }],
          patterns: [{ group: ['**/apps/**'], message: 'libs never import apps' }],
        },
      ],
    },
  },
  {
    // libs/core is the domain: it imports nothing of ours.
    files: ['libs/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@cronbundle/*'], message: 'libs/core imports nothing of ours' },
            { group: ['**/apps/**', '../../*'], message: 'libs/core imports nothing of ours' },
          ],
        },
      ],
    },
  },
);
