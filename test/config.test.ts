import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { envSchema } from '../config/schema';
import { deploymentName, deploymentVersion } from '../config/worker-deployment';

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

  it('the delivery workers deployment: named after the task queue, a build id checked, the policy one of two', () => {
    assert.equal(deploymentName(loadConfig({ TEMPORAL_TASK_QUEUE: 'sb.eu' })), 'sb-eu');
    assert.equal(deploymentName(loadConfig({ WORKER_DEPLOYMENT_NAME: 'carrier-a' })), 'carrier-a');
    assert.match(deploymentVersion(loadConfig({})).buildId, /^\d+\.\d+\.\d+(-[0-9a-f]{12})?$/);
    assert.throws(
      () =>
        loadConfig({
          WORKER_DEPLOYMENT_NAME: 'a.b',
          WORKER_BUILD_ID: 'v 2',
          WORKER_DEPLOYMENT_PROMOTE: 'sometimes',
          DATABASE_POOL_MAX: '1',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /WORKER_DEPLOYMENT_NAME: letters, digits, _ and -/.test(err.message) &&
        /WORKER_BUILD_ID: letters, digits, _ \. \+ and -/.test(err.message) &&
        /WORKER_DEPLOYMENT_PROMOTE/.test(err.message) &&
        /DATABASE_POOL_MAX/.test(err.message),
    );
  });

  it('SHORTLINK_TRUST_PROXY takes false, a hop count or proxy addresses, and refuses true', () => {
    const trust = (v?: string) =>
      loadConfig(v === undefined ? {} : { SHORTLINK_TRUST_PROXY: v }).SHORTLINK_TRUST_PROXY;
    assert.equal(trust(), false);
    assert.equal(trust('false'), false);
    assert.equal(trust('1'), 1);
    assert.deepEqual(trust('10.0.0.0/8, 192.0.2.1,fd00::/8,loopback'), [
      '10.0.0.0/8',
      '192.0.2.1',
      'fd00::/8',
      'loopback',
    ]);
    for (const bad of ['true', '10.0.0.0/33', 'proxy.example.com', '1.2.3.4/8/1', '-1']) {
      assert.throws(
        () => trust(bad),
        (err: unknown) =>
          err instanceof ConfigError && /SHORTLINK_TRUST_PROXY: false, a hop count/.test(err.message),
        bad,
      );
    }
  });
});
