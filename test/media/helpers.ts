import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { keyDirectoryToken } from '../../config/key-directory';
import { MEDIA_UPLOAD_PATH } from '../../domain/media';
import { HttpMediaUploader } from '../../client/media-uploader';
import { TEST_SECRETS, stack } from '../fixtures/stack';

export const uploadToken = () => keyDirectoryToken(stack().env, TEST_SECRETS);

export const uploader = () =>
  new HttpMediaUploader({ baseUrl: stack().worker.receiptsUrl, bearerToken: uploadToken() });

/** A file no other part of the run could contain by chance. */
export const distinctiveFile = (bytes: number) => randomBytes(bytes);

/** A raw POST /v1/media, for the answers the uploader never provokes. */
export async function postMedia(options: {
  body?: Buffer;
  contentType?: string;
  query?: string;
  authorization?: string | null;
}) {
  const headers: Record<string, string> = {};
  if (options.authorization !== null)
    headers.authorization = options.authorization ?? `Bearer ${uploadToken()}`;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const res = await request(
    `${stack().worker.receiptsUrl}${MEDIA_UPLOAD_PATH}${options.query ?? '?fileName=pass.png'}`,
    { method: 'POST', headers, body: options.body },
  );
  const text = await res.body.text();
  return {
    status: res.statusCode,
    body: JSON.parse(text) as Record<string, unknown> & { error?: { code: string; field?: string } },
  };
}
