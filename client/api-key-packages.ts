// The recipient's KeyPackages through the REST API, with the app's API key: the KeyPackageSource
// of an HTTP-mode app's E2eeSender, so sealing needs no key directory token. Errors carry neither
// the number, the URL nor the key.
import { request } from 'undici';
import { E2eeKeyNegotiationError } from '../e2ee/errors';
import type { ClaimedKeyPackage, KeyPackageSource } from '../e2ee/key-directory';
import { KeyDirectoryHttpError, decodeClaim } from '../e2ee/key-directory-http';
import { API_KEY_PACKAGES_PATH } from '../api/routes/key-packages';

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
