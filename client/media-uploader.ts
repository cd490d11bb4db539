// The app's side of `POST /v1/media` (channels/media/upload-routes.ts): SwitchboardClient uploads
// a message's file through a MediaUploader first, then starts the workflow with the answer's
// reference, so the file never enters workflow history.

import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { MEDIA_UPLOAD_PATH } from '../domain/media';
import type { MediaUploadResponse } from '../domain/media';
import type { MediaRef } from '../domain/message';

export interface MediaUploader {
  upload(file: {
    tenant: string;
    data: Uint8Array;
    contentType: string;
    fileName: string;
  }): Promise<MediaRef>;
}

export type MediaUploadErrorCode =
  | 'MEDIA_UPLOAD_TIMEOUT'
  | 'MEDIA_UPLOAD_UNREACHABLE'
  /** 401/403: the app's token is wrong. */
  | 'MEDIA_UPLOAD_UNAUTHORIZED'
  /** 400, 413, 415: the upload was refused; `field` names what. */
  | 'MEDIA_UPLOAD_REJECTED'
  | 'MEDIA_UPLOAD_UNAVAILABLE'
  | 'MEDIA_UPLOAD_MALFORMED_RESPONSE';

/** The upload did not produce a reference. Never carries the file name, the URL or the token. */
export class MediaUploadError extends Error {
  override readonly name = 'MediaUploadError';
  constructor(
    readonly code: MediaUploadErrorCode,
    readonly status: number | null = null,
    /** The refused header, parameter or body, as the server named it. */
    readonly field: string | null = null,
  ) {
    super(
      `media upload failed: ${code}${status === null ? '' : ` (${status})`}${field ? `, field ${field}` : ''}`,
    );
  }
}

export interface HttpMediaUploaderOptions {
  /** The app-facing server, e.g. http://127.0.0.1:8091 (the receipts server). */
  baseUrl: string;
  bearerToken: string;
  /** Whole-request budget. Default 30 000 ms. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

export class HttpMediaUploader implements MediaUploader {
  private readonly url: string;

  constructor(private readonly options: HttpMediaUploaderOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}${MEDIA_UPLOAD_PATH}`;
  }

  async upload(file: {
    tenant: string;
    data: Uint8Array;
    contentType: string;
    fileName: string;
  }): Promise<MediaRef> {
    const query = new URLSearchParams({ fileName: file.fileName, tenant: file.tenant });
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.url}?${query.toString()}`, {
        method: 'POST',
        signal,
        dispatcher: this.options.dispatcher,
        headers: {
          authorization: `Bearer ${this.options.bearerToken}`,
          accept: 'application/json',
          'content-type': file.contentType,
        },
        body: file.data,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch {
      // The underlying error is dropped: undici's messages can quote the URL (and the file name in it).
      throw new MediaUploadError(signal.aborted ? 'MEDIA_UPLOAD_TIMEOUT' : 'MEDIA_UPLOAD_UNREACHABLE');
    }
    if (status === 201) return refFrom(text);
    if (status === 401 || status === 403) throw new MediaUploadError('MEDIA_UPLOAD_UNAUTHORIZED', status);
    if (status === 429 || status >= 500) throw new MediaUploadError('MEDIA_UPLOAD_UNAVAILABLE', status);
    throw new MediaUploadError('MEDIA_UPLOAD_REJECTED', status, fieldOf(text));
  }
}

function refFrom(text: string): MediaRef {
  let answer: Partial<MediaUploadResponse>;
  try {
    answer = JSON.parse(text) as Partial<MediaUploadResponse>;
  } catch {
    throw new MediaUploadError('MEDIA_UPLOAD_MALFORMED_RESPONSE', 201);
  }
  const { mediaId, contentType, fileName, bytes } = answer ?? {};
  if (
    typeof mediaId !== 'string' ||
    typeof contentType !== 'string' ||
    typeof fileName !== 'string' ||
    typeof bytes !== 'number'
  ) {
    throw new MediaUploadError('MEDIA_UPLOAD_MALFORMED_RESPONSE', 201);
  }
  return { mediaId, contentType, fileName, bytes };
}

function fieldOf(text: string): string | null {
  try {
    const field = (JSON.parse(text) as { error?: { field?: unknown } } | null)?.error?.field;
    return typeof field === 'string' ? field : null;
  } catch {
    return null;
  }
}
