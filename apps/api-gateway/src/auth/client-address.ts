import { isIPv4, isIPv6 } from 'node:net';

/**
 * The client address a login is counted against: an IPv4 address as it is (also when it
 * arrives IPv4-mapped, `::ffff:10.0.0.1`), an IPv6 address by its /64, which one client
 * usually holds whole (counting single addresses would give it 2^64 fresh ones).
 * Proxies are not trusted: behind one, every client is the proxy's address.
 */
export function clientAddressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return mapped;
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const [head, tail] = bare.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
