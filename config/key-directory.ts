import type { Env } from './schema';
import { deriveKey } from './secrets';
import type { Secrets } from './secrets';

/** The bearer token apps present to the key directory API (KEY_DIRECTORY_TOKEN, else derived). */
export function keyDirectoryToken(env: Env, secrets: Secrets): string {
  return env.KEY_DIRECTORY_TOKEN ?? deriveKey(secrets, 'key-directory-api');
}
