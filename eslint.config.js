// Lint rules: typescript-eslint's recommended set over the TypeScript sources, with the rules
// that matter at module boundaries (no `any`, no unused names) as errors. Formatting is Prettier's.
// The platform-neutral core (what src/browser.ts bundles for the browser) may not import Node's
// built-ins or use its globals: its folders are listed below, with the Node side inside them
// named file by file (docs/ARCHITECTURE.md, "Platforms").
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The platform-neutral core. */
const NEUTRAL = [
  'src/*.ts',
  'src/backend/**/*.ts',
  'src/models/**/*.ts',
  'src/nn/**/*.ts',
  'src/ops/**/*.ts',
  'src/optim/**/*.ts',
  'src/summary/**/*.ts',
  'src/io/**/*.ts',
];

/** The Node side within those folders: entries, the native addon, files by path. */
const NODE_SIDE = [
  'src/index.ts',
  'src/native_addons.ts',
  'src/backend/platform_node.ts',
  'src/backend/native/**',
  'src/backend/wasm/assets.ts',
  'src/backend/wasm/node.ts',
  'src/backend/wasm/platform_node.ts',
  'src/backend/webgpu/node.ts',
  'src/backend/webgpu/platform_node.ts',
  'src/backend/webgpu/gpu_node.ts',
  'src/io/index.ts',
  'src/io/file_source.ts',
  'src/io/lazy_tensor.ts',
  'src/io/write_atomic.ts',
  'src/io/npy.ts',
  'src/io/safetensors.ts',
  'src/io/weights.ts',
  'src/io/pth/index.ts',
  'src/io/onnx/export.ts',
  'src/io/hub*.ts',
  'src/io/download*.ts',
  'src/io/pretrained*.ts',
];

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'runs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: NEUTRAL,
    ignores: NODE_SIDE,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({
            name,
            message: 'the neutral core runs in browsers: Node-only code goes to the Node side',
          })),
          patterns: [{ group: ['node:*'], message: 'the neutral core runs in browsers: Node-only code goes to the Node side' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({
          name,
          message: 'the neutral core runs in browsers (globalThis.process?.… where Node is optional)',
        })),
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
