import type { Env } from '../config';

/** The database the stack uses: DATABASE_URL, else the embedded PostgreSQL `npm start` runs. */
export function databaseUrlFor(env: Env): string {
  return env.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/switchboard`;
}
