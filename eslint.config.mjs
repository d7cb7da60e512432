// ESLint for hactl: the recommended sets plus three house rules (issue 10).
// - max-len 120: prettier wraps code at 120 but never splits a string, so a long
//   string or template literal fails here and is split by hand. Only URLs pass.
// - unused variables and imports are errors (a leading _ marks one kept on purpose).
// - the import boundary: the pure half of every domain (plan.ts, fold.ts, src/core/,
//   src/alerts/) imports no node module and nothing from src/adapters/ or src/state/,
//   type-only imports included, so a pure file cannot even name an effectful type.
// No type-aware rules: they need the TypeScript program and make a lint run slow.
// File length (300 lines for src/) is scripts/check-file-length.mjs.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const boundaryMessage =
  'plan/fold, src/core and src/alerts stay pure: pass the observation or the adapter in from run/observe.';

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'coverage/', '.tmp/', 'test/fixtures/']),
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests and benchmarks cast fixtures and parsed JSON freely; src/ and scripts/ may not.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The pure half of each domain: observe -> plan (pure) -> run -> fold (pure) -> record.
    files: [
      'src/**/plan.ts',
      'src/**/fold.ts',
      'src/core/**/*.ts',
      'src/alerts/**/*.ts',
      // The other pure files of each domain: decisions, wording and parsing, no effects.
      'src/failover/{moves,retry,describe,learned,watch-plan}.ts',
      'src/memory/gate.ts',
      'src/backup/{restore-plan,retention,types}.ts',
      'src/postgres/{sql,model}.ts',
      'src/validate/{check,text,report,problem}.ts',
      'src/config/durations.ts',
      'src/operator/{schedule,crontab-block,metrics,pause,init,history-stats,status,doctor-checks}.ts',
      'src/health/{judge,parse}.ts',
      'src/guard/witness.ts',
      'src/fencing/**/*.ts', // the serving-permit rule (issue 21)
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: `a node builtin: ${boundaryMessage}` })),
          patterns: [
            { group: ['node:*'], message: `a node builtin: ${boundaryMessage}` },
            { group: ['**/adapters', '**/adapters/**'], message: `an adapter: ${boundaryMessage}` },
            { group: ['**/state', '**/state/**'], message: `state files: ${boundaryMessage}` },
          ],
        },
      ],
      // The same boundary for import('node:fs') and require('fs'), which the rule above does not see.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression',
          message: `no dynamic import in a pure file: ${boundaryMessage}`,
        },
        {
          selector: "CallExpression[callee.name='require']",
          message: `no require in a pure file: ${boundaryMessage}`,
        },
      ],
    },
  },
]);
