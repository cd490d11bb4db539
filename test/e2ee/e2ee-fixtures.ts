// Shared set-up for the E2EE suites: a throwaway database with the key directory, and fresh
// sandbox numbers.

import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';

export const HASH_KEY = 'e2ee-test-directory-hash-key';

export interface E2eeTestDb {
  testDb: TestDatabase;
  directory: PostgresKeyDirectory;
}

export async function openE2eeTestDb(prefix: string): Promise<E2eeTestDb> {
  const testDb = await createTestDatabase(prefix);
  return { testDb, directory: new PostgresKeyDirectory(testDb.db, HASH_KEY) };
}

let serial = 0;
/** A number no other test in this process has used, with the given number-plan prefix. */
export function freshNumber(prefix = '+1555010'): string {
  serial += 1;
  return `${prefix}${String((process.pid * 7 + serial) % 10000).padStart(4, '0')}`;
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
