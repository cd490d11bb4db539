// The shortlink pages: plain HTML, no script, no external asset. The one stylesheet is inline and
// allowed by its hash in the Content-Security-Policy, so the policy needs no 'unsafe-inline'.

import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0; padding: 1.5rem; }
main { max-width: 32rem; margin: 0 auto; }
h1 { font-size: 1.4rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input { font-size: 1.5rem; letter-spacing: .3em; width: 9ch; padding: .3rem .5rem; }
button { font-size: 1rem; padding: .5rem 1rem; margin: .75rem .5rem 0 0; }
.error { border-left: .3rem solid #c62828; padding-left: .75rem; }
.note { opacity: .85; font-size: .9rem; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  'img-src data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Raster types shown inline; anything else (SVG included: it can carry script) is a download. */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

export interface CodeFormOptions {
  /** What happened to the code: sent now, sent a moment ago, or nothing new (after a wrong code). */
  notice: 'sent' | 'recent' | 'none';
  error?: string;
  codeExpiresAt?: Date;
}

export function codeFormPage(options: CodeFormOptions): string {
  const notice =
    options.notice === 'sent'
      ? '<p id="code-help">We sent a 6-digit code by text message to the phone number this link was sent to. Enter it to see the file.</p>'
      : options.notice === 'recent'
        ? '<p id="code-help">We sent a 6-digit code by text message to the phone number this link was sent to a moment ago. Enter it to see the file.</p>'
        : '<p id="code-help">Enter the 6-digit code from the text message we sent to the phone number this link was sent to.</p>';
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  const expiry = options.codeExpiresAt
    ? `<p class="note">The code is valid until ${escapeHtml(options.codeExpiresAt.toISOString().slice(11, 16))} UTC.</p>`
    : '';
  return layout(
    'Enter the code we sent to your phone',
    `${notice}
${error}
<form method="post">
<label for="code">6-digit code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
  pattern="[0-9]{6}" maxlength="6" required aria-describedby="code-help"${options.error ? ' aria-invalid="true"' : ''}>
<div>
<button type="submit" name="action" value="verify">Show the file</button>
<button type="submit" name="action" value="resend" formnovalidate>Send a new code</button>
</div>
</form>
${expiry}`,
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function mediaPage(media: { media: Buffer; contentType: string; fileName: string }): string {
  const name = escapeHtml(media.fileName);
  const size = formatBytes(media.media.length);
  // Served as data: URLs in this one response: nothing decrypted is kept on the server, and the
  // page (no-store) is the only copy. Downloads go as octet-stream so nothing renders them inline.
  const download = `<p><a href="data:application/octet-stream;base64,${media.media.toString('base64')}" download="${name}">Download ${name}</a> (${size})</p>`;
  const inline = INLINE_IMAGE_TYPES.has(media.contentType)
    ? `<img src="data:${media.contentType};base64,${media.media.toString('base64')}" alt="${name}">`
    : '';
  return layout(
    inline ? 'Your image' : 'Your file',
    `${inline}
${download}
<p class="note">This page is not saved. To see the file again, open the link again; you will get a new code.</p>`,
  );
}

export function gonePage(reason: 'expired' | 'revoked' | 'exhausted'): string {
  const why =
    reason === 'expired'
      ? 'This link has expired.'
      : reason === 'exhausted'
        ? 'This link has been opened as many times as it allows.'
        : 'This link has been withdrawn by the sender.';
  return layout(
    'This link is no longer available',
    `<p>${why}</p>
<p>If you still need the file, ask the sender to send it again.</p>`,
  );
}

export function lockedPage(reason: 'wrong-codes' | 'codes-sent'): string {
  const why =
    reason === 'wrong-codes'
      ? 'Too many wrong codes were entered, so this link is locked.'
      : 'Too many codes were requested for this link, so it is locked.';
  return layout(
    'This link is locked',
    `<p>${why}</p>
<p>If you still need the file, ask the sender to send it again.</p>`,
  );
}

export function notFoundPage(): string {
  return layout(
    'Link not found',
    '<p>There is no file at this address. Check that the link was copied completely.</p>',
  );
}

export function throttledPage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return layout(
    'Too many requests',
    `<p>Too many requests came from your network. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.</p>`,
  );
}

export function unavailablePage(what: string): string {
  return layout('Something went wrong', `<p>${escapeHtml(what)}</p><p>Please try again in a moment.</p>`);
}
