// SmppGateway against an SMSC we did not write: Net::SMPP (Debian libnet-smpp-perl) running
// test/interop/net-smpp-smsc.pl on a free port. Asserts what went over the wire from the Perl
// side's own decoding: data_coding, esm_class and the exact short_message octets.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SmsPermanentError } from '../../channels/sms/errors';
import { encodeGsm7 } from '../../channels/sms/gsm7';
import { concatReference } from '../../channels/sms/segmenter';
import type { SmppGateway } from '../../channels/sms/smpp-gateway';
import { collectReceipts, gateway, PASSWORD, SYSTEM_ID, waitFor } from '../channels/sms-harness';

const SCRIPT = path.resolve(__dirname, '../../../test/interop/net-smpp-smsc.pl');
const APT_PACKAGE = 'libnet-smpp-perl';
const TO = '+15550300001';

interface SmscEvent {
  event: string;
  [field: string]: unknown;
}

interface SubmitEvent extends SmscEvent {
  n: number;
  data_coding: number;
  esm_class: number;
  registered_delivery: number;
  short_message: string;
  message_payload?: string;
  status: number;
  message_id?: string;
}

/** Fails with the package to install, rather than skipping: CI installs it. */
function requireNetSmpp(): void {
  const probe = spawnSync('perl', ['-MNet::SMPP', '-MJSON::PP', '-e', '1'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      `perl is not installed (${probe.error.message}): apt-get install -y ${APT_PACKAGE} (brings perl and Net::SMPP)`,
    );
  }
  if (probe.status !== 0) {
    throw new Error(
      `Net::SMPP is missing: apt-get install -y ${APT_PACKAGE} (.ci/run installs it)\n${probe.stderr}`,
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One running net-smpp-smsc.pl, its JSON lines collected as they come. */
class PerlSmsc {
  readonly events: SmscEvent[] = [];
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    readonly port: number,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as SmscEvent);
      } catch {
        this.stderr += `(not JSON) ${line}\n`;
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.once('exit', () => {
      this.exited = true;
    });
  }

  static async start(args: string[] = []): Promise<PerlSmsc> {
    const port = await freePort();
    const child = spawn(
      'perl',
      [SCRIPT, String(port), '--system-id', SYSTEM_ID, '--password', PASSWORD, ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const smsc = new PerlSmsc(child, port);
    running.add(smsc);
    await smsc.waitFor((e) => e.event === 'listening', 'the Perl SMSC to listen', 5000);
    return smsc;
  }

  get submits(): SubmitEvent[] {
    return this.events.filter((e): e is SubmitEvent => e.event === 'submit_sm');
  }

  async waitFor(match: (e: SmscEvent) => boolean, what: string, timeoutMs = 5000): Promise<SmscEvent> {
    try {
      return await waitFor(
        () => {
          if (this.exited) throw new Error('the Perl SMSC exited');
          return this.events.find(match);
        },
        what,
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; Perl SMSC stderr:\n${this.stderr}`);
    }
  }

  async stop(): Promise<void> {
    running.delete(this);
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(force);
  }
}

const running = new Set<PerlSmsc>();

const utf16be = (text: string): string => Buffer.from(text, 'utf16le').swap16().toString('hex');

describe('interop: SmppGateway against a Net::SMPP SMSC (Perl)', function () {
  this.timeout(30_000);
  let smsc: PerlSmsc;
  let gw: SmppGateway;

  before(async () => {
    requireNetSmpp();
    smsc = await PerlSmsc.start(['--receipt-ids', 'decimal', '--receipt-delay-ms', '30']);
  });

  after(async () => {
    // Every Perl SMSC any test started, even one whose test failed half-way.
    await Promise.all([...running].map((s) => s.stop()));
  });

  beforeEach(() => {
    gw = gateway(smsc.port, { throttleBackoffMs: 20 });
  });

  afterEach(async () => {
    await gw.close();
  });

  /** The `count` submits this test caused, after `before` of them (stdout may trail the socket). */
  const submitsSince = async (before: number, count: number): Promise<SubmitEvent[]> => {
    await waitFor(() => smsc.submits.length >= before + count, `${count} submit_sm at the SMSC`);
    await new Promise((r) => setTimeout(r, 20)); // and no more than that
    return smsc.submits.slice(before);
  };

  it('binds as a transceiver, SMPP 3.4, and unbinds on close', async () => {
    const before = smsc.events.length;
    await gw.ready();
    const bind = await smsc.waitFor((e) => e.event === 'bind_transceiver', 'the bind');
    assert.equal(bind.status, 0);
    assert.equal(bind.interface_version, 0x34);
    await gw.close();
    await smsc.waitFor((e) => e.event === 'unbind' && smsc.events.indexOf(e) >= before, 'the unbind');
  });

  it('is refused with a wrong password: SmsPermanentError(ESME_RBINDFAIL)', async () => {
    const wrong = gateway(smsc.port, { password: 'nope' });
    try {
      await assert.rejects(
        wrong.ready(),
        (e: unknown) => e instanceof SmsPermanentError && e.code === 'ESME_RBINDFAIL',
      );
    } finally {
      await wrong.close();
    }
  });

  it('sends GSM 03.38 as data_coding 0 with unpacked septets: "@ _ $" is 00 20 11 20 02', async () => {
    const before = smsc.submits.length;
    const r = await gw.submit({ messageId: 'interop-gsm', to: TO, text: '@ _ $' });
    const [sm, ...more] = await submitsSince(before, 1);
    assert.equal(more.length, 0);
    assert.ok(sm);
    assert.equal(sm.data_coding, 0x00);
    assert.equal(sm.esm_class, 0x00);
    assert.equal(sm.registered_delivery, 0x01, 'final receipt requested');
    assert.equal(sm.short_message, '0020112002');
    assert.deepEqual(r.smscMessageIds, [sm.message_id]);
  });

  it('sends other text as UCS-2, data_coding 8, UTF-16BE octets', async () => {
    const before = smsc.submits.length;
    const text = 'ça va? 你好 😀';
    const r = await gw.submit({ messageId: 'interop-ucs2', to: TO, text });
    assert.equal(r.encoding, 'ucs2');
    const [sm] = await submitsSince(before, 1);
    assert.equal(sm?.data_coding, 0x08);
    assert.equal(sm?.short_message, utf16be(text));
  });

  it('splits 400 GSM characters into three submit_sm with UDH 05 00 03 ref 03 01..03', async () => {
    const before = smsc.submits.length;
    const text = Array.from({ length: 400 }, (_, i) => 'abcdefghi€'.charAt(i % 10)).join('');
    const r = await gw.submit({ messageId: 'interop-long', to: TO, text });
    const parts = await submitsSince(before, 3);
    assert.equal(parts.length, 3);
    const ref = concatReference('interop-long').toString(16).padStart(2, '0');
    const payloads: Buffer[] = [];
    for (const [i, sm] of parts.entries()) {
      assert.equal(sm.esm_class & 0x40, 0x40, 'UDH indicator');
      assert.equal(sm.data_coding, 0x00);
      assert.equal(sm.short_message.slice(0, 12), `050003${ref}03${String(i + 1).padStart(2, '0')}`);
      payloads.push(Buffer.from(sm.short_message.slice(12), 'hex'));
    }
    assert.deepEqual(Buffer.concat(payloads), encodeGsm7(text), 'the parts together are the text');
    assert.deepEqual(
      r.smscMessageIds,
      parts.map((p) => p.message_id),
    );
  });

  it('can send a long text as one message_payload instead', async () => {
    const payloadGw = gateway(smsc.port, { longMessages: 'payload' });
    try {
      const before = smsc.submits.length;
      const text = 'p'.repeat(300);
      const r = await payloadGw.submit({ messageId: 'interop-payload', to: TO, text });
      const [sm, ...more] = await submitsSince(before, 1);
      assert.equal(more.length, 0);
      assert.equal(sm?.esm_class, 0x00);
      assert.equal(sm?.short_message, '');
      assert.equal(sm?.message_payload, encodeGsm7(text).toString('hex'));
      assert.equal(r.smscMessageIds.length, 1);
    } finally {
      await payloadGw.close();
    }
  });

  it('resubmits after ESME_RTHROTTLED and keeps the bind', async () => {
    const throttling = await PerlSmsc.start(['--throttle', '1']);
    const client = gateway(throttling.port, { throttleBackoffMs: 20 });
    try {
      const r = await client.submit({ messageId: 'interop-throttle', to: TO, text: 'slow down' });
      await waitFor(() => throttling.submits.length >= 2, 'two submit_sm at the SMSC');
      const [first, second, ...more] = throttling.submits;
      assert.equal(more.length, 0);
      assert.equal(first?.status, 0x58);
      assert.equal(second?.status, 0);
      assert.equal(second?.short_message, first?.short_message, 'the same part, resubmitted');
      assert.deepEqual(r.smscMessageIds, [second?.message_id]);
      assert.equal(throttling.events.filter((e) => e.event === 'bind_transceiver').length, 1, 'no rebind');
    } finally {
      await client.close();
      await throttling.stop();
    }
  });

  it('reads a text-only receipt with a decimal id and reports it under the submit_sm_resp id', async () => {
    const receipts = collectReceipts(gw);
    const r = await gw.submit({ messageId: 'interop-receipt', to: TO, text: 'receipt please' });
    const id = r.smscMessageIds[0] as string;
    assert.match(id, /^0+[0-9A-F]+$/, 'the Perl SMSC answers zero-padded upper-case hex');
    const sent = await smsc.waitFor((e) => e.event === 'deliver_sm' && e.message_id === id, 'the deliver_sm');
    assert.equal(sent.receipt_id, BigInt(`0x${id}`).toString(10), 'the receipt text gives the id in decimal');
    const receipt = await waitFor(() => receipts.find((x) => x.smscMessageId === id), 'the receipt');
    assert.equal(receipt.state, 'DELIVRD');
    assert.equal(receipt.errorCode, '000');
    const answered = await smsc.waitFor(
      (e) => e.event === 'deliver_sm_resp' && e.message_id === id,
      'deliver_sm_resp at the SMSC',
    );
    assert.equal(answered.status, 0);
  });

  it('keeps the link alive with enquire_link of its own, answered by the Perl SMSC', async () => {
    const before = smsc.events.filter((e) => e.event === 'enquire_link').length;
    const chatty = gateway(smsc.port, { enquireLinkMs: 50 });
    try {
      await chatty.ready();
      await waitFor(
        () => smsc.events.filter((e) => e.event === 'enquire_link').length >= before + 2,
        'two enquire_link at the SMSC',
      );
      const r = await chatty.submit({ messageId: 'interop-alive', to: TO, text: 'still bound' });
      assert.equal(r.smscMessageIds.length, 1);
    } finally {
      await chatty.close();
    }
  });
});
