// Pure parts of the SMS channel: GSM 03.38 coding, splitting, receipt parsing, id matching and the
// command_status table. No sockets.
import assert from 'node:assert/strict';
import { classifyStatus, errorForStatus } from '../../channels/sms/command-status';
import {
  normaliseSmscId,
  parseDeliveryReceipt,
  parseReceiptText,
  receiptIdCandidates,
} from '../../channels/sms/delivery-receipt';
import { SmsPermanentError, SmsTransientError } from '../../channels/sms/errors';
import { decodeGsm7, encodeGsm7, isGsm7 } from '../../channels/sms/gsm7';
import { concatReference, segment } from '../../channels/sms/segmenter';

const seg = (text: string) => segment(text, { messageId: 'm' });

describe('GSM 03.38', () => {
  it('encodes @ _ $ € as unpacked septets, € through the escape table', () => {
    assert.deepEqual([...encodeGsm7('@_$€')], [0x00, 0x11, 0x02, 0x1b, 0x65]);
  });

  it('round-trips the whole basic and extension table', () => {
    const all =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿' +
      'abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€';
    assert.ok(isGsm7(all));
    assert.equal(decodeGsm7(encodeGsm7(all)), all);
  });

  it('rejects characters outside the table', () => {
    assert.equal(isGsm7('ça'), false); // only capital Ç is in GSM 03.38
    assert.equal(isGsm7('`'), false);
  });
});

describe('segment()', () => {
  it('keeps 160 septets in one part and splits 161 into 153 + 8 with UDH', () => {
    assert.equal(seg('a'.repeat(160)).parts.length, 1);
    const two = seg('a'.repeat(161));
    assert.deepEqual(
      two.parts.map((p) => p.payload.length),
      [153, 8],
    );
    assert.deepEqual([...(two.parts[0]?.udh ?? [])], [0x05, 0x00, 0x03, concatReference('m'), 2, 1]);
    assert.equal(two.dataCoding, 0x00);
  });

  it('counts extension characters as two septets and never splits ESC from its code', () => {
    assert.equal(seg('€'.repeat(80)).parts.length, 1); // 160 septets
    assert.equal(seg('€'.repeat(81)).parts.length, 2);
    const parts = seg('a'.repeat(152) + '€' + 'b'.repeat(10)).parts;
    assert.equal(parts[0]?.payload.length, 152, 'the € moves to part 2 rather than leave ESC behind');
    assert.deepEqual([...(parts[1]?.payload.subarray(0, 2) ?? [])], [0x1b, 0x65]);
  });

  it('uses UCS-2 for 70 units per single part and 67 per part', () => {
    const one = seg('ç'.repeat(70));
    assert.equal(one.encoding, 'ucs2');
    assert.equal(one.dataCoding, 0x08);
    assert.equal(one.parts.length, 1);
    assert.deepEqual(
      seg('ç'.repeat(71)).parts.map((p) => p.payload.length),
      [134, 8],
    );
  });

  it('never splits a surrogate pair', () => {
    const parts = seg('a'.repeat(66) + '😀' + 'b'.repeat(10)).parts;
    assert.equal(parts[0]?.payload.length, 132, 'part 1 stops before the emoji');
    assert.equal(parts[1]?.payload.subarray(0, 4).swap16().toString('utf16le'), '😀');
  });

  it('honours a configured GSM data_coding', () => {
    assert.equal(segment('hi', { messageId: 'm', gsmDataCoding: 0x01 }).dataCoding, 0x01);
  });

  it('derives a stable 8-bit reference from the message id', () => {
    assert.equal(concatReference('abc'), concatReference('abc'));
    assert.ok(concatReference('abc') >= 0 && concatReference('abc') <= 255);
  });

  it('refuses a text needing more than 255 parts', () => {
    assert.throws(() => seg('a'.repeat(153 * 255 + 1)), SmsPermanentError);
  });
});

describe('delivery receipts', () => {
  const text =
    'id:1a2b3c sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:stat:UNDELIV id:x';

  it('parses the text form and ignores look-alikes inside text:', () => {
    assert.deepEqual(parseReceiptText(text), { id: '1a2b3c', stat: 'DELIVRD', err: '000' });
  });

  it('prefers TLVs, decodes receipted_message_id by length and strips NULs', () => {
    const r = parseDeliveryReceipt({
      esm_class: 0x04,
      short_message: { message: text },
      receipted_message_id: Buffer.from('ABC123\0', 'ascii'),
      message_state: 5,
      source_addr: '15550300001',
    });
    assert.deepEqual(r, {
      smscMessageId: 'ABC123',
      handset: '15550300001',
      state: 'UNDELIV',
      errorCode: '000',
    });
  });

  it('falls back to the text when there are no TLVs', () => {
    const r = parseDeliveryReceipt({ esm_class: 0x04, short_message: { message: text } });
    assert.deepEqual(r, { smscMessageId: '1a2b3c', handset: null, state: 'DELIVRD', errorCode: '000' });
  });

  it('ignores deliver_sm that are not receipts', () => {
    assert.equal(parseDeliveryReceipt({ esm_class: 0x00, short_message: { message: text } }), null);
  });

  it('lists hex and decimal spellings of an id', () => {
    assert.deepEqual(receiptIdCandidates('1715000000'), [
      '1715000000',
      '6638d2c0',
      '6638D2C0',
      '99136569344',
    ]);
    assert.ok(receiptIdCandidates('006638D2C0').includes('1715000000'));
    assert.equal(normaliseSmscId('000ABC\0'), 'abc');
  });
});

describe('command_status table', () => {
  it('treats throttling, queue full and system errors as transient', () => {
    for (const s of [0x58, 0x14, 0x08])
      assert.ok(errorForStatus(s) instanceof SmsTransientError, `0x${s.toString(16)}`);
    assert.equal(classifyStatus(0x58).backoff, 'throttle');
    assert.equal(classifyStatus(0x14).backoff, 'queue-full');
  });

  it('treats bad addresses and unknown codes as permanent', () => {
    assert.equal(errorForStatus(0x0b).code, 'ESME_RINVDSTADR');
    assert.ok(errorForStatus(0x0a) instanceof SmsPermanentError);
    assert.equal(errorForStatus(0x4242).code, '0x00004242');
    assert.ok(errorForStatus(0x4242) instanceof SmsPermanentError);
  });
});
