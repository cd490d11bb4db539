import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_SECRETS, stack } from './fixtures/stack';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'switchboard.js');
const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-cli-app-'));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { temporal, taskQueue } = stack();
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    CODEC_KEYS: TEST_SECRETS.codecKeys,
    CODEC_ACTIVE_KEY: TEST_SECRETS.codecActiveKey,
    AUDIT_HASH_KEY: TEST_SECRETS.auditHashKey,
    // The CLI is also the demo app for E2EE: its MLS state goes to a scratch directory.
    DATA_DIR: APP_DIR,
    RECEIPTS_PORT: new URL(stack().worker.receiptsUrl).port,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('switchboard CLI', function () {
  this.timeout(30_000);

  it('send --wait --json prints the outcome contract for an RCS number', async () => {
    const { code, stdout } = await cli(['send', '--to', '+15550100001', '--text', 'hi', '--wait', '--json']);
    assert.equal(code, 0);
    const outcome = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(outcome).sort(), [
      'attempts',
      'authoritative',
      'channel',
      'configVersion',
      'e2ee',
      'fallbackReason',
      'flow',
      'messageId',
      'pilot',
      'shortlink',
      'status',
      'timings',
      'workflowId',
    ]);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
  });

  it('send --wait --json to an SMS-only number delivers over SMS; status shows it', async () => {
    const sent = await cli(['send', '--to', '+15550300001', '--text', 'hi', '--wait', '--json']);
    const outcome = JSON.parse(sent.stdout) as { messageId: string; channel: string };
    assert.equal(outcome.channel, 'sms');
    const status = await cli(['status', outcome.messageId, '--json']);
    assert.equal(status.code, 0);
    assert.equal((JSON.parse(status.stdout) as { channel: string }).channel, 'sms');
    const human = await cli(['status', outcome.messageId]);
    assert.match(human.stdout, /status\s+delivered/);
  });

  it('bad input exits 2 with the field named and nothing on stdout', async () => {
    const { code, stdout, stderr } = await cli(['send', '--to', '12345', '--text', 'hi']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^switchboard: to: an E\.164 number/);
  });

  it('an unknown flow is refused by the option parser', async () => {
    const { code, stderr } = await cli([
      'send',
      '--to',
      '+15550100001',
      '--text',
      'hi',
      '--flow',
      'broadcast',
    ]);
    assert.notEqual(code, 0);
    assert.match(stderr, /--flow/);
  });

  it('send --media delivers the file behind a secure link (shortlink: true)', async () => {
    const file = join(__dirname, '..', '..', 'test', 'fixtures', 'pixel.png');
    const { code, stdout } = await cli([
      'send',
      '--to',
      '+15550300050',
      '--text',
      'file',
      '--media',
      file,
      '--wait',
      '--json',
    ]);
    assert.equal(code, 0);
    const outcome = JSON.parse(stdout) as { shortlink: boolean; channel: string };
    assert.deepEqual([outcome.channel, outcome.shortlink], ['sms', true]);
    const missing = await cli([
      'send',
      '--to',
      '+15550300050',
      '--text',
      'file',
      '--media',
      '/nonexistent.png',
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--media: a readable file/);
  });

  it('send --flow critical --rcs-copy marks the RCS copy supplementary', async () => {
    const { stdout } = await cli([
      'send',
      '--to',
      '+15550100060',
      '--text',
      'otp',
      '--flow',
      'critical',
      '--rcs-copy',
      '--wait',
      '--json',
    ]);
    const outcome = JSON.parse(stdout) as {
      authoritative: string;
      attempts: Array<{ channel: string; supplementary?: boolean }>;
    };
    assert.equal(outcome.authoritative, 'sms');
    assert.ok(outcome.attempts.some((a) => a.channel === 'rcs' && a.supplementary));
  });

  it('send --e2ee required: the CLI seals the text as an app (key directory API); delivered end-to-end encrypted', async () => {
    const { code, stdout } = await cli([
      'send',
      '--to',
      '+15550100036',
      '--text',
      'cli secret',
      '--e2ee',
      'required',
      '--wait',
      '--json',
    ]);
    assert.equal(code, 0);
    const outcome = JSON.parse(stdout) as { e2ee: boolean; channel: string };
    assert.deepEqual([outcome.channel, outcome.e2ee], ['rcs', true]);
    const entry = stack().carriers.phones?.inbox('+15550100036')[0];
    assert.equal(entry?.ok, true);
  });

  it('a failed delivery exits 1', async () => {
    const { code, stdout } = await cli(['send', '--to', '+15550700001', '--text', 'hi', '--wait', '--json']);
    assert.equal(code, 1);
    assert.equal((JSON.parse(stdout) as { status: string }).status, 'failed');
  });
});
