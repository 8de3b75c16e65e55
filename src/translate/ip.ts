// IP address checks for EndpointSlice addresses, pure (no node:net in translate/): what the API
// server accepts in an IPv4 or IPv6 slice (IsValidIPv4Address / IsValidIPv6Address, then
// ValidateNonSpecialIP: not unspecified, loopback or link-local).

/** Strict dotted decimal: four 0–255 parts, no leading zeros. */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** The 16 bytes of an IPv6 address (with an optional embedded IPv4 tail), undefined if not one. */
export function parseIPv6(text: string): number[] | undefined {
  if (!text.includes(':') || text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
      out.push(parseInt(item, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * The slice address type of an address the API server would accept in an endpoint, or why not.
 * An IPv4-mapped IPv6 address counts as IPv4 for the API server, so it fits no IPv6 slice.
 */
export function endpointAddressType(
  address: string,
): { type: 'IPv4' | 'IPv6' } | { problem: string } {
  const v4 = parseIPv4(address);
  if (v4) {
    if (v4.every((b) => b === 0)) return { problem: 'unspecified address' };
    if (v4[0] === 127) return { problem: 'loopback address' };
    if (v4[0] === 169 && v4[1] === 254) return { problem: 'link-local address' };
    return { type: 'IPv4' };
  }
  const v6 = parseIPv6(address);
  if (!v6) return { problem: 'not an IP address' };
  if (v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff)
    return { problem: 'IPv4-mapped IPv6 address' };
  if (v6.every((b) => b === 0)) return { problem: 'unspecified address' };
  if (v6.slice(0, 15).every((b) => b === 0) && v6[15] === 1) return { problem: 'loopback address' };
  if (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80) return { problem: 'link-local address' };
  return { type: 'IPv6' };
}
