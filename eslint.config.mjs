// Lint is part of `npm run check`. The import boundaries of ARCHITECTURE.md are rules here, not review:
// only extension/ imports vscode; webview/ is DOM only; daemon/ never imports extension/ or webview/;
// daemon/protocol imports only zod; the extension takes from the daemon only protocol/ and client/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'test-results/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: [
          './daemon/protocol/tsconfig.json',
          './daemon/tsconfig.json',
          './extension/tsconfig.json',
          './webview/tsconfig.json',
          './test/tsconfig.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // `import { z }` makes esbuild keep zod's whole namespace object; `import * as z` lets it drop
      // what is unused (≈ 100 KB of the extension bundle).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
          message: "Write `import * as z from 'zod'`: the named `z` keeps all of zod in the bundles.",
        },
      ],
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true, named: true, defaultFrom: true, namedFrom: true, namespaceFrom: true } }],
    },
  },
  {
    files: ['daemon/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod$|\\./).*', message: 'daemon/protocol imports only zod and itself.' }] }],
    },
  },
  {
    files: ['daemon/**/*.ts'],
    ignores: ['daemon/protocol/**'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['vscode'], message: 'Only extension/ imports vscode.' },
        { group: ['**/extension/**', '**/webview/**'], message: 'daemon/ never imports from extension/ or webview/.' },
      ]),
    },
  },
  // A relative path reaches the top-level daemon/ only with exactly one `../` more than the file is
  // deep inside extension/ (with fewer it names extension/daemon/, the extension's own), so the rule
  // is set per depth.
  ...[1, 2, 3, 4, 5].map((depth) => ({
    files: [`extension/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': restrict([
        {
          regex: `^(\\.\\./){${depth}}daemon/(?!protocol(/|$)|client(/|$))`,
          message: 'The extension imports from the daemon only daemon/protocol and daemon/client.',
        },
      ]),
    },
  })),
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['vscode'], message: 'webview/ is DOM only: ask the extension through postMessage.' },
        { group: ['node:*', 'fs', 'path', 'child_process', 'net', 'ws'], message: 'webview/ is DOM only.' },
        { regex: '^(\\.\\./)+(extension|daemon/(?!protocol))', message: 'webview/ imports only webview/ and daemon/protocol.' },
      ]),
    },
  },
  {
    // Tool config files must default-export (vitest's contract).
    files: ['vitest.config.ts'],
    rules: { 'no-restricted-exports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
