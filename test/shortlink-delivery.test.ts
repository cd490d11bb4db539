import assert from 'node:assert/strict';
import { request } from 'undici';
import { stack } from './fixtures/stack';

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const smsTo = (to: string) =>
  stack().carriers.smsc.received.filter((m) => m.destination.endsWith(to.slice(1)));

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('media over SMS: the secure shortlink (Recipe A), end to end', function () {
  this.timeout(30_000);

  it('sends a link by SMS; opening it asks for a code sent to the number, then shows the media', async () => {
    const { switchboard, worker, db } = stack();
    const to = '+15550300040';
    const sent = await switchboard.send({
      to,
      text: 'Your boarding pass',
      media: { data: PNG, contentType: 'image/png', fileName: 'pass.png' },
    });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.shortlink, true);

    const [message] = smsTo(to);
    assert.ok(message);
    const link = /(http:\/\/\S+\/s\/\S+)/.exec(message.text)?.[1] ?? '';
    assert.ok(
      link?.startsWith(worker.shortlinksUrl),
      `the SMS carries the link: ${message.text.replace(/\/s\/\S+/, '/s/…')}`,
    );
    assert.ok(message.text.startsWith('Your boarding pass '));

    const page = await request(link);
    assert.equal(page.statusCode, 200);
    assert.match(await page.body.text(), /Enter the code we sent to your phone/);
    const codeSms = await until(() => smsTo(to).find((m) => /code/.test(m.text)), 'the code SMS');
    const code = /(\d{6})/.exec(codeSms.text)?.[1];
    assert.ok(code);

    const opened = await request(link, {
      method: 'POST',
      body: `code=${code}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(opened.statusCode, 200);
    assert.ok((await opened.body.text()).includes(PNG.toString('base64')), 'the page shows the image');

    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_log WHERE message_id = $1 AND event IN ('shortlink', 'shortlink.open', 'shortlink.code_sent')`,
      [sent.messageId],
    );
    assert.ok(Number(rows[0]?.n) >= 3, 'link creation, code and open are audited');
  });

  it('refuses media with e2ee required, and oversized media, naming the field', async () => {
    const { switchboard } = stack();
    await assert.rejects(
      switchboard.send({
        to: '+15550300041',
        text: 'x',
        e2ee: 'required',
        media: { data: PNG, contentType: 'image/png', fileName: 'a.png' },
      }),
      /^ValidationError: media: not with e2ee required/,
    );
    await assert.rejects(
      switchboard.send({
        to: '+15550300041',
        text: 'x',
        media: { data: Buffer.alloc(600 * 1024), contentType: 'image/png', fileName: 'a.png' },
      }),
      /^ValidationError: media: a file of 1 byte to 512 KiB/,
    );
  });
});
