// The recipient's KeyPackages and the tenant's escrow member through the REST API, with the app's
// API key: what an HTTP-mode app's E2eeSender reads, so sealing needs no key directory token. Errors carry neither
// the number, the URL nor the key.
import { request } from 'undici';
import { E2eeKeyNegotiationError } from '../e2ee/errors';
import type { ClaimedKeyPackage, KeyPackageSource } from '../e2ee/key-directory';
import { KeyDirectoryHttpError, decodeClaim } from '../e2ee/key-directory-http';
import { API_ESCROW_MEMBER_PATH, API_KEY_PACKAGES_PATH } from '../api/routes/key-packages';
import { EscrowMemberFetchError, decodeEscrowMember } from '../e2ee/escrow-member-http';
import type { EscrowMemberPublic } from '../e2ee/sender';

export class ApiKeyPackages implements KeyPackageSource {
  private readonly url: string;
  constructor(private readonly options: { baseUrl: string; apiKey: string; timeoutMs?: number }) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}${API_KEY_PACKAGES_PATH}`;
  }

  async claim(msisdn: string): Promise<ClaimedKeyPackage[]> {
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 5000);
    let status: number;
    let text: string;
    try {
      const res = await request(this.url, {
        method: 'POST',
        signal,
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ msisdn }),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch {
      // undici's messages can quote the URL: dropped.
      throw new KeyDirectoryHttpError(signal.aborted ? 'KEY_DIRECTORY_TIMEOUT' : 'KEY_DIRECTORY_UNREACHABLE');
    }
    if (status === 200) return decodeClaim(text);
    if (status === 404) throw new E2eeKeyNegotiationError('NO_KEY_PACKAGES');
    if (status === 401 || status === 403)
      throw new KeyDirectoryHttpError('KEY_DIRECTORY_UNAUTHORIZED', status);
    if (status === 429 || status >= 500) throw new KeyDirectoryHttpError('KEY_DIRECTORY_UNAVAILABLE', status);
    throw new KeyDirectoryHttpError('KEY_DIRECTORY_REJECTED', status);
  }
}

/** The key's tenant's escrow member through the REST API (null: not escrowed). Errors carry no URL or key. */
export async function fetchEscrowMemberViaApi(options: {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
}): Promise<EscrowMemberPublic | null> {
  let status: number;
  let text: string;
  try {
    const res = await request(`${options.baseUrl.replace(/\/+$/, '')}${API_ESCROW_MEMBER_PATH}`, {
      method: 'GET',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch {
    throw new EscrowMemberFetchError(null);
  }
  if (status !== 200) throw new EscrowMemberFetchError(status);
  try {
    const { escrow } = JSON.parse(text) as { escrow: unknown };
    return escrow === null ? null : decodeEscrowMember(escrow);
  } catch {
    throw new EscrowMemberFetchError(200);
  }
}
