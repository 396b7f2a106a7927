import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The layout as a house: cli/ on top; hub/ and agent/ side by side, never an arrow between them;
  // lib/ and proto/ on the ground, lib/ the lowest floor: the contract may use its helpers (the
  // name check), lib/ imports nothing of ours. Only the hub loads Nest's side of the API (proto/nest).
  ...layers({
    'hub/**/*.ts': ['agent', 'cli', 'test'],
    'agent/**/*.ts': ['hub', 'cli', 'test', 'proto/nest'],
    'lib/**/*.ts': ['hub', 'agent', 'cli', 'test', 'proto'],
    'proto/**/*.ts': ['hub', 'agent', 'cli', 'test'],
    'cli/**/*.ts': ['test', 'proto/nest'],
  }),
  {
    // the launchers start the hub and the agent through their main.ts, nothing deeper
    files: ['cli/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...upward(['test', 'proto/nest']),
            {
              regex: '^(\\.\\./)+(hub|agent)/(?!main\\.js$)',
              message: 'cli/ starts the hub and the agent only through hub/main.js and agent/main.js',
            },
          ],
        },
      ],
    },
  },
);

/** no-restricted-imports patterns for relative imports that climb into one of `folders`. */
function upward(folders) {
  return folders.map((f) => ({
    regex: `^(\\.\\./)+${f.replace('/', '\\/')}(\\/|\\.js$|$)`,
    message: `this folder must not import ${f} (see the layout in ARCHITECTURE.md and eslint.config.js)`,
  }));
}

/**
 * Config blocks per folder: the folders its code may not import. Specs beside the code may also
 * use test/ fixtures. cli/ is refined above.
 */
function layers(rules) {
  return Object.entries(rules)
    .filter(([files]) => !files.startsWith('cli/'))
    .flatMap(([files, folders]) => [
      {
        files: [files],
        ignores: ['**/*.spec.ts'],
        rules: { 'no-restricted-imports': ['error', { patterns: upward(folders) }] },
      },
      {
        files: [files.replace(/\*\.ts$/, '*.spec.ts')],
        rules: {
          'no-restricted-imports': ['error', { patterns: upward(folders.filter((f) => f !== 'test')) }],
        },
      },
    ]);
}
