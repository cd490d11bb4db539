import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fixtures/cli';
import { stack } from './fixtures/stack';

const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-cli-app-'));
// The CLI is also the demo app for E2EE: its MLS state goes to a scratch directory.
const cli = (args: string[]) => runCli(args, APP_DIR);

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
