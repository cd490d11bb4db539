// Secure shortlinks (issue 5, the article's Recipe A): media that cannot reach the recipient over
// RCS is kept here, encrypted, behind a link with an unguessable token, a TTL, an open budget and
// a one-time code sent to the number the link is bound to. channels/shortlink/shortlink-app.ts
// serves the page; this module is the only one that sees keys.
//
// What the table holds, and what it does not:
// - token_hash = SHA-256(token). The token itself (≥128 bits, only ever in the SMS and in the
//   request path) is not stored, so a copy of the table yields no working link. A fast hash is
//   enough: the token is random, there is no dictionary to try.
// - recipient_hash = HMAC-SHA256(recipientHashKey, E.164), hex: the same keyed hash as the audit
//   trail (store/audit-log.ts) when given AUDIT_HASH_KEY, so audit rows and links join on it.
// - The number itself, the media and its file name (file names often name a person) are
//   AES-256-GCM ciphertext under a random 256-bit data key of their own (one per link).
// - The data key is stored only wrapped (AES-256-GCM) under a key-wrapping key derived with
//   HKDF-SHA256 from BOTH the server's key-encryption key (KEK, 32 bytes, injected, never in the
//   database) AND the token. Why both:
//     * KEK alone (wrapping with the KEK only) would let anyone holding the database and the
//       server's configuration read every stored file without any link;
//     * the token alone (deriving the key from the token only) would make the token hash a
//       verifier for an offline search, and a leaked token plus a database dump would decrypt
//       without the server;
//     * with both, a database dump, a backup, or a DBA is not enough, and neither is the server
//       configuration: decryption needs the link, which only the recipient's SMS carries, and
//       the page still asks for the code before it decrypts anything.
//   The price: we cannot re-encrypt or re-send a link's media without its token (we never need
//   to), and a KEK can only be retired after the longest TTL has passed (kek_id names the KEK a
//   row was wrapped with; pass retired ones as previousKeks until then).
// - Revoking a link, or purgeExpired() after it expires or is used up, shreds it: the wrapped key
//   and every ciphertext become NULL, the metadata row stays (so the page can answer 410, not 404).
// - The one-time code is kept as HMAC-SHA256 under a key derived from the KEK and the token (a
//   6-digit code is brute-forced in microseconds from a plain hash), with its expiry and a
//   per-link count of wrong codes that locks the link at maxWrongCodes.
//
// Every check-and-update runs in a transaction on the row (SELECT … FOR UPDATE), so two tabs, two
// instances of the page, or a burst of guesses cannot spend more opens or attempts than allowed.
// Errors never carry the token, the code, the number or the media: callers may log and audit them.

import { createHash, createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Database } from './database';
import { deriveKey, kekRing, open, seal } from './sealing';

// Listed in store/migrations.ts (typed there, so this module needs no import back).
export const shortlinksMigration = {
  id: 5,
  name: 'secure shortlinks',
  sql: `
    -- store/shortlinks.ts explains each column. No token, no number, no plaintext media here.
    CREATE TABLE shortlinks (
      token_hash           bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
      link_id              uuid        NOT NULL UNIQUE,
      message_id           text        NOT NULL,
      recipient_hash       text        NOT NULL,
      kek_id               text        NOT NULL,
      wrapped_key          bytea,
      recipient_ciphertext bytea,
      media_ciphertext     bytea,
      file_name_ciphertext bytea,
      content_type         text        NOT NULL,
      media_bytes          integer     NOT NULL CHECK (media_bytes > 0),
      created_at           timestamptz NOT NULL,
      expires_at           timestamptz NOT NULL CHECK (expires_at > created_at),
      max_opens            integer     NOT NULL DEFAULT 5 CHECK (max_opens >= 1),
      opens                integer     NOT NULL DEFAULT 0 CHECK (opens >= 0 AND opens <= max_opens),
      last_opened_at       timestamptz,
      revoked_at           timestamptz,
      shredded_at          timestamptz,
      otp_hash             bytea,
      otp_issued_at        timestamptz,
      otp_expires_at       timestamptz,
      otp_attempts         integer     NOT NULL DEFAULT 0,
      codes_sent           integer     NOT NULL DEFAULT 0,
      -- Shredded means all key material and ciphertext gone, together.
      CHECK ((shredded_at IS NULL) = (wrapped_key IS NOT NULL AND media_ciphertext IS NOT NULL
             AND recipient_ciphertext IS NOT NULL AND file_name_ciphertext IS NOT NULL))
    );
    CREATE INDEX shortlinks_message ON shortlinks (message_id);
    CREATE INDEX shortlinks_unshredded_expiry ON shortlinks (expires_at) WHERE shredded_at IS NULL;
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT, INSERT, UPDATE ON shortlinks TO switchboard_app;
      END IF;
    END $$;
  `,
};

// ---------------------------------------------------------------------------------------------
// Errors. Each carries what the audit trail may record about the link (never the token).

/** What may be logged and audited about a link: no token, no number, no media. */
export interface ShortlinkRef {
  linkId: string;
  messageId: string;
  /** The keyed hash of the bound number (the audit trail's recipient_hash). */
  recipientHash: string;
}

export class ShortlinkError extends Error {
  override readonly name: string = 'ShortlinkError';
}

/** No link has this token (or the token is malformed). HTTP 404. */
export class ShortlinkNotFoundError extends ShortlinkError {
  override readonly name = 'ShortlinkNotFoundError';
  constructor() {
    super('shortlink: not found');
  }
}

export type GoneReason = 'expired' | 'revoked' | 'exhausted';

/** Expired, revoked or out of opens. HTTP 410. */
export class ShortlinkGoneError extends ShortlinkError {
  override readonly name = 'ShortlinkGoneError';
  constructor(
    readonly reason: GoneReason,
    readonly link: ShortlinkRef,
  ) {
    super(`shortlink: ${reason}`);
  }
}

export type WrongCodeReason = 'mismatch' | 'malformed' | 'no-code' | 'code-expired';

/**
 * The code was not accepted. Only 'mismatch' spends one of the link's attempts; on the last one
 * `locked` is true and the link refuses every later attempt with TooManyAttemptsError.
 */
export class WrongCodeError extends ShortlinkError {
  override readonly name = 'WrongCodeError';
  constructor(
    readonly reason: WrongCodeReason,
    readonly attemptsLeft: number,
    readonly link: ShortlinkRef,
  ) {
    super(`shortlink: code not accepted (${reason})`);
  }
  get locked(): boolean {
    return this.attemptsLeft <= 0;
  }
}

/** Locked after too many wrong codes, or too many codes requested for this link. HTTP 429. */
export class TooManyAttemptsError extends ShortlinkError {
  override readonly name = 'TooManyAttemptsError';
  constructor(
    readonly reason: 'wrong-codes' | 'codes-sent',
    readonly link: ShortlinkRef,
  ) {
    super(`shortlink: too many attempts (${reason})`);
  }
}

/** sendCode failed; the code was withdrawn and does not count against the link. HTTP 503. */
export class CodeDeliveryError extends ShortlinkError {
  override readonly name = 'CodeDeliveryError';
  constructor(
    readonly link: ShortlinkRef,
    /** The name of what sendCode threw, nothing more (its message could hold the number). */
    readonly causeName: string,
  ) {
    super(`shortlink: the code could not be sent (${causeName})`);
  }
}

/** A ciphertext failed authentication, or its KEK is not configured. HTTP 500. */
export class ShortlinkIntegrityError extends ShortlinkError {
  override readonly name = 'ShortlinkIntegrityError';
  constructor(
    readonly reason: 'unknown-kek' | 'authentication-failed',
    readonly link: ShortlinkRef,
  ) {
    super(`shortlink: cannot decrypt (${reason})`);
  }
}

/** Refused input to create(); names the field, never the value. */
export class ShortlinkInputError extends ShortlinkError {
  override readonly name = 'ShortlinkInputError';
}

// ---------------------------------------------------------------------------------------------

export type SendCode = (recipientE164: string, code: string, messageId: string) => Promise<void>;

export interface ShortlinkStoreOptions {
  db: Database;
  /** Key-encryption key, 32 bytes; part of every link's key-wrapping key. Never stored. */
  kek: Buffer;
  /** Retired KEKs, still needed for links created under them until those have expired. */
  previousKeks?: Buffer[];
  /** Key of the recipient hash; pass AUDIT_HASH_KEY so it equals audit_log.recipient_hash. */
  recipientHashKey: string | Buffer;
  /** Public base of the page, e.g. https://s.example.com; a link is `${baseUrl}/s/${token}`. */
  baseUrl: string;
  /** Sends the one-time code to the bound number (the worker sends it over SMS). */
  sendCode: SendCode;
  now?: () => Date;
  /** Default 86 400 (24 h). */
  defaultTtlSeconds?: number;
  /** Longest TTL create() accepts. Default 7 days. */
  maxTtlSeconds?: number;
  /** Default 5. */
  defaultMaxOpens?: number;
  /** Wrong codes per link before it locks. Default 5. */
  maxWrongCodes?: number;
  /** Codes a link may send in its life (each one is an SMS). Default 10. */
  maxCodesSent?: number;
  /** A code is valid this long. Default 600 (10 min). */
  codeTtlSeconds?: number;
  /** While a code younger than this is valid, startOpen sends no new one. Default 30. */
  resendCooldownSeconds?: number;
  /** Default 10 MiB. */
  maxMediaBytes?: number;
}

export interface CreateShortlinkInput {
  messageId: string;
  /** E.164, e.g. +15550300001: the only number that receives the link's codes. */
  recipient: string;
  media: Buffer;
  contentType: string;
  fileName: string;
  ttlSeconds?: number;
  maxOpens?: number;
  /** Overrides the store's baseUrl (a region's own shortlink host). */
  baseUrl?: string;
}

export interface CreatedShortlink extends ShortlinkRef {
  /** base64url, 144 random bits. Goes into the SMS; never log it. */
  token: string;
  url: string;
  expiresAt: Date;
}

export interface StartOpenResult extends ShortlinkRef {
  /** false: a code sent less than resendCooldownSeconds ago is still valid; nothing was sent. */
  codeSent: boolean;
  codeExpiresAt: Date;
}

export interface OpenedShortlink extends ShortlinkRef {
  media: Buffer;
  contentType: string;
  fileName: string;
  /** Opens so far, this one included. */
  opens: number;
  maxOpens: number;
}

interface Row {
  token_hash: Buffer;
  link_id: string;
  message_id: string;
  recipient_hash: string;
  kek_id: string;
  wrapped_key: Buffer | null;
  recipient_ciphertext: Buffer | null;
  media_ciphertext: Buffer | null;
  file_name_ciphertext: Buffer | null;
  content_type: string;
  expires_at: Date;
  max_opens: number;
  opens: number;
  revoked_at: Date | null;
  shredded_at: Date | null;
  otp_hash: Buffer | null;
  otp_issued_at: Date | null;
  otp_expires_at: Date | null;
  otp_attempts: number;
  codes_sent: number;
}

const TOKEN_BYTES = 18; // 144 bits: 24 base64url characters, no padding
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,86}$/;
const CODE_PATTERN = /^[0-9]{6}$/;
const E164_PATTERN = /^\+[1-9][0-9]{6,14}$/;
const CONTENT_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const MAX_FILE_NAME = 200;

/** Whether a string has the shape of a token (anything else is answered 404 without a lookup). */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function derive(kek: Buffer, token: string, purpose: 'kwk' | 'otp'): Buffer {
  return deriveKey(kek, token, `switchboard/shortlink/${purpose}/v1`);
}

function aadFor(column: string, hash: Buffer, messageId: string, kid: string): string {
  return `switchboard/shortlink/v1|${column}|${hash.toString('hex')}|${messageId}|${kid}`;
}

function cleanFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const printable = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (printable || 'file').slice(0, MAX_FILE_NAME);
}

const refOf = (row: Row): ShortlinkRef => ({
  linkId: row.link_id,
  messageId: row.message_id,
  recipientHash: row.recipient_hash,
});

const SELECT_FOR_UPDATE = `
  SELECT token_hash, link_id, message_id, recipient_hash, kek_id, wrapped_key, recipient_ciphertext,
         media_ciphertext, file_name_ciphertext, content_type, expires_at, max_opens, opens, revoked_at,
         shredded_at, otp_hash, otp_issued_at, otp_expires_at, otp_attempts, codes_sent
  FROM shortlinks WHERE token_hash = $1 FOR UPDATE`;

const SHRED = `wrapped_key = NULL, recipient_ciphertext = NULL, media_ciphertext = NULL,
  file_name_ciphertext = NULL, otp_hash = NULL, otp_issued_at = NULL, otp_expires_at = NULL`;

export class ShortlinkStore {
  private readonly db: Database;
  private readonly keks: Map<string, Buffer>;
  private readonly activeKekId: string;
  private readonly recipientHashKey: string | Buffer;
  private readonly baseUrl: string;
  private readonly sendCode: SendCode;
  private readonly now: () => Date;
  private readonly defaultTtlSeconds: number;
  private readonly maxTtlSeconds: number;
  private readonly defaultMaxOpens: number;
  readonly maxWrongCodes: number;
  private readonly maxCodesSent: number;
  private readonly codeTtlMs: number;
  private readonly resendCooldownMs: number;
  private readonly maxMediaBytes: number;

  constructor(options: ShortlinkStoreOptions) {
    const ring = kekRing(
      options.kek,
      options.previousKeks ?? [],
      (message) => new ShortlinkInputError(message),
    );
    this.keks = ring.keks;
    this.activeKekId = ring.activeId;
    if (options.recipientHashKey.length < 16)
      throw new ShortlinkInputError('recipientHashKey: at least 16 characters or bytes');
    this.db = options.db;
    this.recipientHashKey = options.recipientHashKey;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.sendCode = options.sendCode;
    this.now = options.now ?? (() => new Date());
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? 86_400;
    this.maxTtlSeconds = options.maxTtlSeconds ?? 7 * 86_400;
    this.defaultMaxOpens = options.defaultMaxOpens ?? 5;
    this.maxWrongCodes = options.maxWrongCodes ?? 5;
    this.maxCodesSent = options.maxCodesSent ?? 10;
    this.codeTtlMs = (options.codeTtlSeconds ?? 600) * 1000;
    this.resendCooldownMs = (options.resendCooldownSeconds ?? 30) * 1000;
    this.maxMediaBytes = options.maxMediaBytes ?? 10 * 1024 * 1024;
  }

  /** HMAC-SHA256(recipientHashKey, E.164) as hex; equal to AuditLog.hashRecipient under the same key. */
  hashRecipient(e164: string): string {
    return createHmac('sha256', this.recipientHashKey).update(e164).digest('hex');
  }

  async create(input: CreateShortlinkInput): Promise<CreatedShortlink> {
    if (typeof input.messageId !== 'string' || input.messageId.length === 0 || input.messageId.length > 200)
      throw new ShortlinkInputError('messageId: a non-empty string of at most 200 characters');
    if (typeof input.recipient !== 'string' || !E164_PATTERN.test(input.recipient))
      throw new ShortlinkInputError('recipient: an E.164 number (+ then 7 to 15 digits)');
    if (!Buffer.isBuffer(input.media) || input.media.length === 0 || input.media.length > this.maxMediaBytes)
      throw new ShortlinkInputError(`media: a non-empty Buffer of at most ${this.maxMediaBytes} bytes`);
    const contentType = typeof input.contentType === 'string' ? input.contentType.trim().toLowerCase() : '';
    if (!CONTENT_TYPE_PATTERN.test(contentType))
      throw new ShortlinkInputError('contentType: a MIME type such as image/png, without parameters');
    if (typeof input.fileName !== 'string') throw new ShortlinkInputError('fileName: a string');
    const ttl = input.ttlSeconds ?? this.defaultTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > this.maxTtlSeconds)
      throw new ShortlinkInputError(`ttlSeconds: an integer from 1 to ${this.maxTtlSeconds}`);
    const maxOpens = input.maxOpens ?? this.defaultMaxOpens;
    if (!Number.isInteger(maxOpens) || maxOpens < 1 || maxOpens > 1000)
      throw new ShortlinkInputError('maxOpens: an integer from 1 to 1000');

    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const hash = tokenHash(token);
    const kid = this.activeKekId;
    const kek = this.keks.get(kid)!;
    const dataKey = randomBytes(32);
    const aad = (column: string) => aadFor(column, hash, input.messageId, kid);
    const wrapped = seal(derive(kek, token, 'kwk'), dataKey, aad('wrapped_key'));
    const createdAt = this.now();
    const expiresAt = new Date(createdAt.getTime() + ttl * 1000);
    const linkId = randomUUID();
    const recipientHash = this.hashRecipient(input.recipient);

    await this.db.query(
      `INSERT INTO shortlinks (token_hash, link_id, message_id, recipient_hash, kek_id, wrapped_key,
         recipient_ciphertext, media_ciphertext, file_name_ciphertext, content_type, media_bytes,
         created_at, expires_at, max_opens)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        hash,
        linkId,
        input.messageId,
        recipientHash,
        kid,
        wrapped,
        seal(dataKey, Buffer.from(input.recipient, 'utf8'), aad('recipient_ciphertext')),
        seal(dataKey, input.media, aad('media_ciphertext')),
        seal(dataKey, Buffer.from(cleanFileName(input.fileName), 'utf8'), aad('file_name_ciphertext')),
        contentType,
        input.media.length,
        createdAt,
        expiresAt,
        maxOpens,
      ],
    );
    const base = (input.baseUrl ?? this.baseUrl).replace(/\/+$/, '');
    return { token, url: `${base}/s/${token}`, expiresAt, linkId, messageId: input.messageId, recipientHash };
  }

  /**
   * Issues a one-time code for the link's number and hands it to sendCode, unless a code sent
   * less than resendCooldownSeconds ago is still valid (a reload, a link preview): then nothing
   * is sent. A new code replaces the previous one; wrong codes keep counting across codes.
   */
  async startOpen(token: string): Promise<StartOpenResult> {
    const hash = this.hashOrNotFound(token);
    const issued = await this.inTransaction(async (client) => {
      const row = await this.lockRow(client, hash);
      this.assertUsable(row);
      const now = this.now();
      if (
        row.otp_hash &&
        row.otp_issued_at &&
        row.otp_expires_at &&
        row.otp_expires_at.getTime() > now.getTime() &&
        now.getTime() - row.otp_issued_at.getTime() < this.resendCooldownMs
      ) {
        return { sent: false as const, row, codeExpiresAt: row.otp_expires_at };
      }
      if (row.codes_sent >= this.maxCodesSent) throw new TooManyAttemptsError('codes-sent', refOf(row));
      const dataKey = this.unwrap(row, token);
      const recipient = this.decrypt(row, dataKey, 'recipient_ciphertext', row.recipient_ciphertext!);
      const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
      const otpHash = this.otpHash(row, token, code);
      const codeExpiresAt = new Date(now.getTime() + this.codeTtlMs);
      await client.query(
        `UPDATE shortlinks SET otp_hash = $2, otp_issued_at = $3, otp_expires_at = $4, codes_sent = codes_sent + 1
         WHERE token_hash = $1`,
        [hash, otpHash, now, codeExpiresAt],
      );
      return {
        sent: true as const,
        row,
        codeExpiresAt,
        code,
        otpHash,
        recipient: recipient.toString('utf8'),
      };
    });
    const link = refOf(issued.row);
    if (!issued.sent) return { ...link, codeSent: false, codeExpiresAt: issued.codeExpiresAt };
    // Sent after the commit: no row lock is held across an SMS submission.
    try {
      await this.sendCode(issued.recipient, issued.code, issued.row.message_id);
    } catch (err) {
      await this.db
        .query(
          `UPDATE shortlinks SET otp_hash = NULL, otp_issued_at = NULL, otp_expires_at = NULL,
             codes_sent = greatest(codes_sent - 1, 0)
           WHERE token_hash = $1 AND otp_hash = $2`,
          [hash, issued.otpHash],
        )
        .catch(() => undefined);
      throw new CodeDeliveryError(link, err instanceof Error ? err.name : typeof err);
    }
    return { ...link, codeSent: true, codeExpiresAt: issued.codeExpiresAt };
  }

  /** Checks the code; if right, spends one open and returns the decrypted media. */
  async verifyAndOpen(token: string, code: string): Promise<OpenedShortlink> {
    const hash = this.hashOrNotFound(token);
    const outcome = await this.inTransaction(async (client) => {
      const row = await this.lockRow(client, hash);
      this.assertUsable(row);
      const link = refOf(row);
      const attemptsLeft = this.maxWrongCodes - row.otp_attempts;
      if (typeof code !== 'string' || !CODE_PATTERN.test(code))
        return new WrongCodeError('malformed', attemptsLeft, link);
      if (!row.otp_hash || !row.otp_expires_at) return new WrongCodeError('no-code', attemptsLeft, link);
      const now = this.now();
      if (row.otp_expires_at.getTime() <= now.getTime()) {
        await client.query(
          'UPDATE shortlinks SET otp_hash = NULL, otp_issued_at = NULL, otp_expires_at = NULL WHERE token_hash = $1',
          [hash],
        );
        return new WrongCodeError('code-expired', attemptsLeft, link);
      }
      if (!timingSafeEqual(this.otpHash(row, token, code), row.otp_hash)) {
        const locked = attemptsLeft - 1 <= 0;
        await client.query(
          `UPDATE shortlinks SET otp_attempts = otp_attempts + 1${
            locked ? ', otp_hash = NULL, otp_issued_at = NULL, otp_expires_at = NULL' : ''
          } WHERE token_hash = $1`,
          [hash],
        );
        return new WrongCodeError('mismatch', attemptsLeft - 1, link);
      }
      // Decrypt before spending the open: a link that cannot be decrypted keeps its budget.
      const dataKey = this.unwrap(row, token);
      const media = this.decrypt(row, dataKey, 'media_ciphertext', row.media_ciphertext!);
      const fileName = this.decrypt(row, dataKey, 'file_name_ciphertext', row.file_name_ciphertext!);
      await client.query(
        `UPDATE shortlinks SET opens = opens + 1, last_opened_at = $2,
           otp_hash = NULL, otp_issued_at = NULL, otp_expires_at = NULL
         WHERE token_hash = $1`,
        [hash, now],
      );
      return {
        ...link,
        media,
        contentType: row.content_type,
        fileName: fileName.toString('utf8'),
        opens: row.opens + 1,
        maxOpens: row.max_opens,
      } satisfies OpenedShortlink;
    });
    // Thrown after the commit so that a wrong code's attempt is recorded.
    if (outcome instanceof WrongCodeError) throw outcome;
    return outcome;
  }

  /** Revokes and shreds the link (keys and ciphertexts gone); idempotent. */
  async revoke(token: string): Promise<ShortlinkRef> {
    const hash = this.hashOrNotFound(token);
    const { rows } = await this.db.query<Row>(
      `UPDATE shortlinks SET revoked_at = coalesce(revoked_at, $2), shredded_at = coalesce(shredded_at, $2), ${SHRED}
       WHERE token_hash = $1 RETURNING link_id, message_id, recipient_hash`,
      [hash, this.now()],
    );
    if (!rows[0]) throw new ShortlinkNotFoundError();
    return refOf(rows[0]);
  }

  /** Revokes and shreds every link of a message (no token needed); returns how many were live. */
  async revokeMessage(messageId: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE shortlinks SET revoked_at = $2, shredded_at = coalesce(shredded_at, $2), ${SHRED}
       WHERE message_id = $1 AND revoked_at IS NULL`,
      [messageId, this.now()],
    );
    return rowCount ?? 0;
  }

  /**
   * Shreds links that can no longer open (expired, out of opens, locked): their keys and
   * ciphertexts become NULL, the metadata stays so the page still answers 410. Run periodically.
   */
  async purgeExpired(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE shortlinks SET shredded_at = $1, ${SHRED}
       WHERE shredded_at IS NULL AND (expires_at <= $1 OR opens >= max_opens OR otp_attempts >= $2)`,
      [this.now(), this.maxWrongCodes],
    );
    return rowCount ?? 0;
  }

  // -------------------------------------------------------------------------------------------

  private hashOrNotFound(token: string): Buffer {
    if (typeof token !== 'string' || !isWellFormedToken(token)) throw new ShortlinkNotFoundError();
    return tokenHash(token);
  }

  private async lockRow(client: pg.PoolClient, hash: Buffer): Promise<Row> {
    const { rows } = await client.query<Row>(SELECT_FOR_UPDATE, [hash]);
    if (!rows[0]) throw new ShortlinkNotFoundError();
    return rows[0];
  }

  /** Throws for a link that cannot be opened any more, in the order a user would care about. */
  private assertUsable(row: Row): void {
    const link = refOf(row);
    if (row.revoked_at) throw new ShortlinkGoneError('revoked', link);
    if (row.expires_at.getTime() <= this.now().getTime()) throw new ShortlinkGoneError('expired', link);
    if (row.opens >= row.max_opens) throw new ShortlinkGoneError('exhausted', link);
    if (row.otp_attempts >= this.maxWrongCodes) throw new TooManyAttemptsError('wrong-codes', link);
    // Shredded by purgeExpired under a clock or limits that have since changed: nothing to open.
    if (row.shredded_at || !row.wrapped_key) throw new ShortlinkGoneError('expired', link);
  }

  private kekFor(row: Row): Buffer {
    const kek = this.keks.get(row.kek_id);
    if (!kek) throw new ShortlinkIntegrityError('unknown-kek', refOf(row));
    return kek;
  }

  private unwrap(row: Row, token: string): Buffer {
    const key = open(
      derive(this.kekFor(row), token, 'kwk'),
      row.wrapped_key!,
      aadFor('wrapped_key', row.token_hash, row.message_id, row.kek_id),
    );
    if (!key || key.length !== 32) throw new ShortlinkIntegrityError('authentication-failed', refOf(row));
    return key;
  }

  private decrypt(row: Row, dataKey: Buffer, column: string, sealed: Buffer): Buffer {
    const plain = open(dataKey, sealed, aadFor(column, row.token_hash, row.message_id, row.kek_id));
    if (!plain) throw new ShortlinkIntegrityError('authentication-failed', refOf(row));
    return plain;
  }

  private otpHash(row: Row, token: string, code: string): Buffer {
    return createHmac('sha256', derive(this.kekFor(row), token, 'otp'))
      .update(row.token_hash)
      .update(code)
      .digest();
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    let result: T;
    try {
      await client.query('BEGIN');
      result = await work(client);
      await client.query('COMMIT');
    } catch (err) {
      // A connection that cannot even roll back is discarded rather than returned to the pool.
      const broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      client.release(broken);
      throw err;
    }
    client.release();
    return result;
  }
}
