// SSRF: a callback URL is the app's to choose, so it could name the worker's own network
// (PostgreSQL, the Temporal frontend, a cloud metadata endpoint). The check is on the address
// the connection actually uses (the lookup undici connects with), so a name that resolves to a
// private address, or is re-pointed after a first check (DNS rebinding), is refused too.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Refused before a connection is made; the sender gives up on the event at once. */
export class CallbackAddressRefusedError extends Error {
  override readonly name = 'CallbackAddressRefusedError';
}

const blockedV4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blockedV4.addSubnet(net, bits, 'ipv4');
const blockedV6 = new BlockList();
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible (deprecated; hosts may still route it)
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215)
  ['100::', 64], // discard
  ['2001::', 32], // Teredo: the embedded address is the relay's, not the target's
  ['2001:db8::', 32], // documentation
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated, still routed on some networks)
  ['ff00::', 8],
] as const)
  blockedV6.addSubnet(net, bits, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 and a zone id allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const dotted = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address a packet to this IPv6 address really goes to, for the forms that carry one:
 * IPv4-mapped (::ffff:0:0/96), NAT64 well-known prefix (64:ff9b::/96), 6to4 (2002::/16).
 */
function embeddedIpv4(g: number[]): string | null {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return dotted(g[6] as number, g[7] as number);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return dotted(g[6] as number, g[7] as number);
  if (g[0] === 0x2002) return dotted(g[1] as number, g[2] as number);
  return null;
}

/**
 * Loopback, private, link-local, CGNAT, multicast, unspecified, documentation and transition
 * ranges; an IPv6 address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged by that one.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address.replace(/%.*$/, ''));
  if (family === 0) return true;
  if (family === 4) return blockedV4.check(address, 'ipv4');
  const embedded = embeddedIpv4(ipv6Groups(address));
  if (embedded) return blockedV4.check(embedded, 'ipv4');
  return blockedV6.check(address.replace(/%.*$/, ''), 'ipv6');
}

/** Throws for a URL whose host is a literal private address (net.connect skips lookup for those). */
export function checkLiteralHost(url: URL, allowPrivate: boolean): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) !== 0 && isPrivateAddress(host))
    throw new CallbackAddressRefusedError('callback host is a private address');
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A dns.lookup for undici's connector that refuses private answers unless they are allowed. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, []);
      const refused = !allowPrivate && addresses.some((a) => isPrivateAddress(a.address));
      if (refused || addresses.length === 0)
        return callback(new CallbackAddressRefusedError('callback host resolves to a private address'), []);
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
