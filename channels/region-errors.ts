import { FailureType } from '../domain/failures';

/** A message whose region has no endpoint: refused rather than sent through another region. */
export class RegionUnservedError extends Error {
  override readonly name = FailureType.RegionUnserved;
  constructor(region: string) {
    super(`no carrier endpoints are configured for region ${region}`);
  }
}
