import { isAbsolute, resolve } from 'node:path';
import type { Env } from './schema';

/** The repository root, whether running from source or from dist/. */
export const PROJECT_ROOT = resolve(__dirname, __dirname.includes(`${'/'}dist${'/'}`) ? '../..' : '..');

/** A relative DATA_DIR is taken from the project root, so the CLI finds it from any directory. */
export function dataDir(env: Env): string {
  return isAbsolute(env.DATA_DIR) ? env.DATA_DIR : resolve(PROJECT_ROOT, env.DATA_DIR);
}
