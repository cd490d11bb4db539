import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { envSchema } from '../config/schema';

const ROOT = join(__dirname, '..', '..');

describe('configuration', () => {
  const names = Object.keys(envSchema.shape).sort();

  it('every variable is in .env.example', () => {
    const listed = readFileSync(join(ROOT, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0])
      .sort();
    assert.deepEqual(listed, names);
  });

  it('every variable is in the README configuration table', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = names.filter((n) => !readme.includes(`| \`${n}\``));
    assert.deepEqual(missing, []);
  });

  it('the defaults form a valid config', () => {
    const env = loadConfig({});
    assert.equal(env.TEMPORAL_TASK_QUEUE, 'switchboard');
    assert.equal(env.RCS_MAX_ATTEMPTS, 2);
    assert.equal(env.SANDBOX, true);
  });

  it('bad values are refused, naming each variable and what it expects', () => {
    assert.throws(
      () =>
        loadConfig({
          SMPP_PORT: 'seventy',
          RCS_MAX_ATTEMPTS: '9',
          DATABASE_URL: 'mysql://x',
          CODEC_KEYS: 'nocolon',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /SMPP_PORT/.test(err.message) &&
        /RCS_MAX_ATTEMPTS/.test(err.message) &&
        /DATABASE_URL/.test(err.message) &&
        /CODEC_KEYS: id:base64key/.test(err.message),
    );
  });
});
