import assert from 'node:assert/strict';
import { MAX_MEDIA_BYTES, MEDIA_ID_PATTERN } from '../../domain/media';
import { MediaUploadError } from '../../client/media-uploader';
import { stack } from '../fixtures/stack';
import { distinctiveFile, postMedia, uploader } from './helpers';

describe('POST /v1/media: uploads for the claim check, over real HTTP', function () {
  this.timeout(30_000);

  it('stores the file encrypted and answers 201 with its reference', async () => {
    const file = distinctiveFile(2048);
    const { status, body } = await postMedia({
      body: file,
      contentType: 'image/png',
      query: '?fileName=pass.png&tenant=acme',
    });
    assert.equal(status, 201);
    assert.match(String(body.mediaId), MEDIA_ID_PATTERN);
    assert.deepEqual(
      { bytes: body.bytes, contentType: body.contentType, fileName: body.fileName },
      { bytes: 2048, contentType: 'image/png', fileName: 'pass.png' },
    );
    const { rows } = await stack().db.query<{ media_ciphertext: Buffer; tenant: string; id_hash: Buffer }>(
      'SELECT media_ciphertext, tenant, id_hash FROM media_objects ORDER BY created_at DESC LIMIT 1',
    );
    assert.equal(rows[0]?.tenant, 'acme');
    assert.ok(!rows[0]?.media_ciphertext.includes(file.subarray(0, 32)), 'no plaintext at rest');
    assert.ok(!rows[0]?.id_hash.toString('utf8').includes(String(body.mediaId)), 'the id is stored hashed');
  });

  it('401 without a token or with a wrong one, before reading the body', async () => {
    for (const authorization of [null, 'Bearer not-the-token-at-all']) {
      const { status, body } = await postMedia({
        body: Buffer.from('x'),
        contentType: 'image/png',
        authorization,
      });
      assert.equal(status, 401);
      assert.deepEqual(body.error && [body.error.code, body.error.field], [
        'UNAUTHENTICATED',
        'authorization',
      ]);
    }
  });

  it('413 over MAX_MEDIA_BYTES, naming the body', async () => {
    const { status, body } = await postMedia({
      body: Buffer.alloc(MAX_MEDIA_BYTES + 1, 1),
      contentType: 'image/png',
    });
    assert.equal(status, 413);
    assert.deepEqual(body.error && [body.error.code, body.error.field], ['PAYLOAD_TOO_LARGE', 'body']);
    const atLimit = await postMedia({ body: Buffer.alloc(MAX_MEDIA_BYTES, 1), contentType: 'image/png' });
    assert.equal(atLimit.status, 201, 'exactly the limit is accepted');
  });

  it('415 for a type the client validation refuses, or none, naming content-type', async () => {
    for (const contentType of ['image', 'image/png png', undefined]) {
      const { status, body } = await postMedia({ body: Buffer.from('x'), contentType });
      assert.equal(status, 415, `content-type ${String(contentType)}`);
      assert.deepEqual(body.error && [body.error.code, body.error.field], [
        'UNSUPPORTED_MEDIA_TYPE',
        'content-type',
      ]);
    }
    const withParameter = await postMedia({
      body: Buffer.from('x'),
      contentType: 'text/plain; charset=utf-8',
    });
    assert.equal(withParameter.status, 201);
    assert.equal(withParameter.body.contentType, 'text/plain');
  });

  it('400 for an empty body, a missing or bad file name, a bad tenant, each naming the field', async () => {
    const cases = [
      { body: Buffer.alloc(0), query: '?fileName=a.png', field: 'body' },
      { body: Buffer.from('x'), query: '', field: 'fileName' },
      { body: Buffer.from('x'), query: '?fileName=..%2Fetc%2Fpasswd', field: 'fileName' },
      { body: Buffer.from('x'), query: '?fileName=a.png&tenant=Not_A_Tenant', field: 'tenant' },
    ];
    for (const c of cases) {
      const { status, body } = await postMedia({ body: c.body, contentType: 'image/png', query: c.query });
      assert.equal(status, 400, c.field);
      assert.deepEqual(body.error && [body.error.code, body.error.field], ['INVALID_ARGUMENT', c.field]);
    }
  });

  it('the client uploader turns refusals into a typed error naming the field', async () => {
    await assert.rejects(
      uploader().upload({
        tenant: 'default',
        data: new Uint8Array(0),
        contentType: 'image/png',
        fileName: 'a.png',
      }),
      (err: unknown) => err instanceof MediaUploadError && err.status === 400 && err.field === 'body',
    );
  });
});
