// What a media upload may be, shared by the client's validation and the upload endpoint, so the
// two can never disagree. Plain constants only: workflow code may import it.

/** The largest file a message can carry (behind its secure link). */
export const MAX_MEDIA_BYTES = 512 * 1024;

/** A media type without parameters, e.g. image/png. */
export const MEDIA_TYPE_PATTERN = /^[\w.+-]+\/[\w.+-]+$/;

/** 1 to 100 characters, no slash, backslash or NUL: a name, never a path. */
export const MEDIA_FILE_NAME_PATTERN = /^[^/\\\0]{1,100}$/;

/** An uploaded object's id: 24 base64url characters (144 random bits). */
export const MEDIA_ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** Tenant names as the client validates them. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The upload endpoint on the app-facing server: raw bytes, `Content-Type` = the media type. */
export const MEDIA_UPLOAD_PATH = '/v1/media';

/** 201 answer of an upload. */
export interface MediaUploadResponse {
  mediaId: string;
  bytes: number;
  contentType: string;
  fileName: string;
  /** ISO-8601: after this the id no longer works (the upload TTL). */
  expiresAt: string;
}

export type MediaUploadErrorCode =
  'UNAUTHENTICATED' | 'INVALID_ARGUMENT' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'UNAVAILABLE';

/** Every non-201 answer; `field` names the header, parameter or body that was refused. */
export interface MediaUploadErrorBody {
  error: { code: MediaUploadErrorCode; message: string; field?: string };
}
