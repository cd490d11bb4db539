// How every process and the CLI reach Temporal (config/temporal-connection.ts): profiles from a
// TOML file, TEMPORAL_* variables over them, clear errors for what is missing. The mTLS handshake
// itself is exercised against the cluster by test/cluster/.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { parseServices } from '../workers/service-roles';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-envconfig-'));
const pem = (name: string) => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${name}-----\n`);
  return path;
};
const [cert, key, ca] = [pem('client.pem'), pem('client-key.pem'), pem('ca.pem')];
// No profile file of the machine's user may leak in: each case names its own (or a blank one).
const blank = join(dir, 'blank.toml');
writeFileSync(blank, '[profile.default]\n');
const text = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes).toString() : undefined);
const options = (vars: Record<string, string>) =>
  temporalConnectionOptions(loadConfig({ TEMPORAL_CONFIG_FILE: blank, ...vars }));

describe('connecting to Temporal (envconfig)', () => {
  it('with no address anywhere, it is the local dev server, in plaintext', () => {
    assert.deepEqual(options({ TEMPORAL_DEV_PORT: '7300' }), { address: '127.0.0.1:7300' });
  });

  it('TEMPORAL_* variables give the address and mTLS, the files read as envconfig reads them', () => {
    const got = options({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    assert.equal(got.address, 'temporal.internal:7233');
    const tls = got.tls as TLSConfig;
    assert.equal(tls.serverNameOverride, 'localhost');
    assert.equal(text(tls.serverRootCACertificate), text(readFileSync(ca)));
    assert.equal(text(tls.clientCertPair?.crt), text(readFileSync(cert)));
    assert.equal(text(tls.clientCertPair?.key), text(readFileSync(key)));
  });

  it('a profile from the TOML file, and the variables over it', () => {
    const file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.cluster]',
        'address = "127.0.0.1:7400"',
        '[profile.cluster.tls]',
        `client_cert_path = "${cert}"`,
        `client_key_path = "${key}"`,
        `server_ca_cert_path = "${ca}"`,
        '[profile.cloud]',
        'address = "ns.acct.tmprl.cloud:7233"',
        'api_key = "cloud-api-key"',
      ].join('\n'),
    );
    const cluster = options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cluster' });
    assert.equal(cluster.address, '127.0.0.1:7400');
    assert.equal(text((cluster.tls as TLSConfig).clientCertPair?.crt), text(readFileSync(cert)));
    const cloud = options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    assert.deepEqual(cloud, { address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'cloud-api-key' });
    const moved = options({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_ADDRESS: 'b:1' });
    assert.equal(moved.address, 'b:1');
  });

  it('an API key alone turns TLS on (Temporal Cloud)', () => {
    assert.deepEqual(options({ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_API_KEY: 'k' }), {
      address: 'a:1',
      tls: true,
      apiKey: 'k',
    });
  });

  it('a missing file or profile is refused, naming the variable', () => {
    const refused = (vars: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => options(vars),
        (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      );
    refused({ TEMPORAL_CONFIG_FILE: join(dir, 'none.toml') }, /^TEMPORAL_CONFIG_FILE: no file at /);
    refused(
      { TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'gone.pem') },
      /^TEMPORAL_TLS_CLIENT_CERT_PATH: no file at .*gone\.pem/,
    );
    refused({ TEMPORAL_PROFILE: 'nope' }, /TEMPORAL_PROFILE.*Profile 'nope' not found/);
  });
});

describe('choosing roles (--services)', () => {
  it('takes a comma-separated list of known roles', () => {
    assert.deepEqual([...parseServices('worker, receipts')], ['worker', 'receipts']);
  });

  it('refuses an unknown or empty list, naming the option and the roles', () => {
    assert.throws(
      () => parseServices('worker,dispatcher'),
      /--services: unknown dispatcher; expected .*worker/,
    );
    assert.throws(() => parseServices(' , '), /--services: empty; expected/);
  });
});
