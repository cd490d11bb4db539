// Uploaded media waiting for its message (the claim check): an app uploads a file once
// (`POST /v1/media`), gets an id, and starts the message with a reference to it, so the file never
// rides in workflow history. The createShortlink activity loads it from here by that id.
//
// Encrypted at rest the way store/shortlinks.ts keeps link media (store/sealing.ts): the file, its
// name and its SHA-256 are AES-256-GCM ciphertext under a random data key per object, and that
// key is wrapped under a key derived from BOTH the server's KEK and the object's id. The id (144
// random bits) is stored only as its SHA-256, so a database dump plus the server configuration
// still opens nothing: the id lives only with the uploader and in the (codec-encrypted) workflow
// input. The digest is sealed too: in the clear it would confirm a guess of a known file.
// The AAD names the tenant, so a row moved to another tenant fails authentication.
//
// Objects expire after a TTL (the shortlink TTL by default) whether or not a message used them:
// one upload may serve several messages while it lives, and purgeExpired() deletes the rest.

import { createHash, randomBytes } from 'node:crypto';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_ID_PATTERN,
  MEDIA_TYPE_PATTERN,
  TENANT_PATTERN,
} from '../domain/media';
import type { Database } from './database';
import { deriveKey, kekRing, open, seal } from './sealing';

// Listed in store/migrations.ts.
export const mediaObjectsMigration = {
  id: 11,
  name: 'media objects',
  sql: `
    -- store/media-objects.ts explains each column. No id, no plaintext media or file name here.
    CREATE TABLE media_objects (
      id_hash              bytea       PRIMARY KEY CHECK (octet_length(id_hash) = 32),
      tenant               text        NOT NULL,
      kek_id               text        NOT NULL,
      wrapped_key          bytea       NOT NULL,
      media_ciphertext     bytea       NOT NULL,
      file_name_ciphertext bytea       NOT NULL,
      sha256_ciphertext    bytea       NOT NULL,
      content_type         text        NOT NULL,
      bytes                integer     NOT NULL CHECK (bytes > 0),
      created_at           timestamptz NOT NULL,
      expires_at           timestamptz NOT NULL CHECK (expires_at > created_at)
    );
    CREATE INDEX media_objects_expiry ON media_objects (expires_at);
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT, INSERT, DELETE ON media_objects TO switchboard_app;
      END IF;
    END $$;
  `,
};

export class MediaObjectError extends Error {
  override readonly name: string = 'MediaObjectError';
}

/** Refused input to put(); `field` names what was wrong, the message what was expected. */
export class MediaObjectInputError extends MediaObjectError {
  override readonly name = 'MediaObjectInputError';
  constructor(
    readonly field: 'tenant' | 'data' | 'contentType' | 'fileName' | 'kek',
    expected: string,
  ) {
    super(`${field}: ${expected}`);
  }
}

/** No live object has this id for this tenant: unknown, another tenant's, or expired (alike, on purpose). */
export class MediaObjectNotFoundError extends MediaObjectError {
  override readonly name = 'MediaObjectNotFoundError';
  constructor() {
    super('media object: not found for this tenant (unknown, expired or another tenant’s)');
  }
}

/** A ciphertext failed authentication, or its KEK is not configured. */
export class MediaObjectIntegrityError extends MediaObjectError {
  override readonly name = 'MediaObjectIntegrityError';
  constructor(readonly reason: 'unknown-kek' | 'authentication-failed') {
    super(`media object: cannot decrypt (${reason})`);
  }
}

export interface MediaObjectStoreOptions {
  db: Database;
  /** Key-encryption key, 32 bytes; part of every object's key-wrapping key. Never stored. */
  kek: Buffer;
  /** Retired KEKs, still needed for objects created under them until those have expired. */
  previousKeks?: Buffer[];
  /** How long an upload can be used. */
  ttlSeconds: number;
  now?: () => Date;
}

export interface MediaUpload {
  tenant: string;
  data: Buffer;
  contentType: string;
  fileName: string;
}

export interface StoredMediaObject {
  /** 24 base64url characters; whoever holds it (with the tenant) can have the file sent. */
  mediaId: string;
  tenant: string;
  contentType: string;
  fileName: string;
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface LoadedMediaObject extends Omit<StoredMediaObject, 'createdAt'> {
  data: Buffer;
}

interface Row {
  id_hash: Buffer;
  tenant: string;
  kek_id: string;
  wrapped_key: Buffer;
  media_ciphertext: Buffer;
  file_name_ciphertext: Buffer;
  sha256_ciphertext: Buffer;
  content_type: string;
  bytes: number;
  expires_at: Date;
}

const ID_BYTES = 18; // 144 bits: 24 base64url characters

const idHash = (mediaId: string) => createHash('sha256').update(mediaId, 'utf8').digest();

function aadFor(column: string, hash: Buffer, tenant: string, kid: string): string {
  return `switchboard/media-object/v1|${column}|${hash.toString('hex')}|${tenant}|${kid}`;
}

const keyWrappingKey = (kek: Buffer, mediaId: string) =>
  deriveKey(kek, mediaId, 'switchboard/media-object/kwk/v1');

export class MediaObjectStore {
  private readonly db: Database;
  private readonly keks: Map<string, Buffer>;
  private readonly activeKekId: string;
  private readonly ttlMs: number;
  private readonly now: () => Date;

  constructor(options: MediaObjectStoreOptions) {
    const ring = kekRing(
      options.kek,
      options.previousKeks ?? [],
      () => new MediaObjectInputError('kek', '32 bytes are required'),
    );
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1)
      throw new RangeError('ttlSeconds: a positive integer');
    this.db = options.db;
    this.keks = ring.keks;
    this.activeKekId = ring.activeId;
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? (() => new Date());
  }

  async put(upload: MediaUpload): Promise<StoredMediaObject> {
    if (typeof upload.tenant !== 'string' || !TENANT_PATTERN.test(upload.tenant))
      throw new MediaObjectInputError('tenant', 'lowercase letters, digits and dashes');
    if (!Buffer.isBuffer(upload.data) || upload.data.length === 0 || upload.data.length > MAX_MEDIA_BYTES)
      throw new MediaObjectInputError('data', `a file of 1 byte to ${MAX_MEDIA_BYTES / 1024} KiB`);
    if (typeof upload.contentType !== 'string' || !MEDIA_TYPE_PATTERN.test(upload.contentType))
      throw new MediaObjectInputError('contentType', 'a media type like image/png');
    if (typeof upload.fileName !== 'string' || !MEDIA_FILE_NAME_PATTERN.test(upload.fileName))
      throw new MediaObjectInputError('fileName', 'a file name of 1 to 100 characters, no slashes');

    const mediaId = randomBytes(ID_BYTES).toString('base64url');
    const hash = idHash(mediaId);
    const kid = this.activeKekId;
    const dataKey = randomBytes(32);
    const aad = (column: string) => aadFor(column, hash, upload.tenant, kid);
    const sha256 = createHash('sha256').update(upload.data).digest();
    const contentType = upload.contentType.toLowerCase();
    const createdAt = this.now();
    const expiresAt = new Date(createdAt.getTime() + this.ttlMs);
    await this.db.query(
      `INSERT INTO media_objects (id_hash, tenant, kek_id, wrapped_key, media_ciphertext,
         file_name_ciphertext, sha256_ciphertext, content_type, bytes, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        hash,
        upload.tenant,
        kid,
        seal(keyWrappingKey(this.keks.get(kid)!, mediaId), dataKey, aad('wrapped_key')),
        seal(dataKey, upload.data, aad('media_ciphertext')),
        seal(dataKey, Buffer.from(upload.fileName, 'utf8'), aad('file_name_ciphertext')),
        seal(dataKey, sha256, aad('sha256_ciphertext')),
        contentType,
        upload.data.length,
        createdAt,
        expiresAt,
      ],
    );
    return {
      mediaId,
      tenant: upload.tenant,
      contentType,
      fileName: upload.fileName,
      bytes: upload.data.length,
      sha256: sha256.toString('hex'),
      createdAt,
      expiresAt,
    };
  }

  /** The decrypted file; MediaObjectNotFoundError unless it is live and the tenant's own. */
  async load(mediaId: string, tenant: string): Promise<LoadedMediaObject> {
    if (typeof mediaId !== 'string' || !MEDIA_ID_PATTERN.test(mediaId)) throw new MediaObjectNotFoundError();
    const hash = idHash(mediaId);
    const { rows } = await this.db.query<Row>(
      `SELECT id_hash, tenant, kek_id, wrapped_key, media_ciphertext, file_name_ciphertext,
              sha256_ciphertext, content_type, bytes, expires_at
       FROM media_objects WHERE id_hash = $1 AND tenant = $2 AND expires_at > $3`,
      [hash, tenant, this.now()],
    );
    const row = rows[0];
    if (!row) throw new MediaObjectNotFoundError();
    const kek = this.keks.get(row.kek_id);
    if (!kek) throw new MediaObjectIntegrityError('unknown-kek');
    const decrypt = (key: Buffer, column: string, sealed: Buffer) => {
      const plain = open(key, sealed, aadFor(column, hash, row.tenant, row.kek_id));
      if (!plain) throw new MediaObjectIntegrityError('authentication-failed');
      return plain;
    };
    const dataKey = decrypt(keyWrappingKey(kek, mediaId), 'wrapped_key', row.wrapped_key);
    const data = decrypt(dataKey, 'media_ciphertext', row.media_ciphertext);
    const sha256 = decrypt(dataKey, 'sha256_ciphertext', row.sha256_ciphertext);
    if (!createHash('sha256').update(data).digest().equals(sha256))
      throw new MediaObjectIntegrityError('authentication-failed');
    return {
      mediaId,
      tenant: row.tenant,
      contentType: row.content_type,
      fileName: decrypt(dataKey, 'file_name_ciphertext', row.file_name_ciphertext).toString('utf8'),
      bytes: row.bytes,
      sha256: sha256.toString('hex'),
      expiresAt: row.expires_at,
      data,
    };
  }

  /** Deletes every object past its TTL; returns how many. Run periodically. */
  async purgeExpired(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM media_objects WHERE expires_at <= $1', [
      this.now(),
    ]);
    return rowCount ?? 0;
  }
}
