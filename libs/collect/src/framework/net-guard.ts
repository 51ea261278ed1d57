import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Keeps `http` collectors off cloud metadata endpoints (169.254.169.254, fd00:ec2::254 and the
 * rest of link-local), which hand out instance credentials. Checked on the addresses DNS returns,
 * inside the socket's own lookup, so a name cannot resolve one way for the check and another for
 * the connection.
 */
export class AddressGuard {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();
  private readonly allowedHosts = new Set<string>();

  constructor(allow: readonly string[] = []) {
    this.blocked.addSubnet('169.254.0.0', 16, 'ipv4');
    this.blocked.addSubnet('::ffff:169.254.0.0', 112, 'ipv6');
    this.blocked.addSubnet('fe80::', 10, 'ipv6');
    this.blocked.addAddress('fd00:ec2::254', 'ipv6');
    for (const raw of allow) {
      const entry = raw.trim();
      const [address, bits] = entry.split('/');
      const family = isIP(address ?? '');
      if (family && bits !== undefined) this.allowed.addSubnet(address!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      else if (family) this.allowed.addAddress(address!, family === 4 ? 'ipv4' : 'ipv6');
      else if (entry) this.allowedHosts.add(entry.toLowerCase());
    }
  }

  /** Why `address` (reached for `hostname`) is refused, or undefined when it may be used. */
  refusal(hostname: string, address: string): string | undefined {
    if (this.allowedHosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''))) return undefined;
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!this.blocked.check(address, family) || this.allowed.check(address, family)) return undefined;
    return `blocked: ${hostname} resolves to ${address}, a link-local/metadata address (allow it with httpAllow)`;
  }

  /** A `lookup` for http(s).request that resolves and then refuses blocked addresses. */
  readonly lookup = (
    hostname: string,
    options: { family?: number; all?: boolean } | number,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const opts = typeof options === 'number' ? { family: options } : options;
    dnsLookup(hostname, { family: opts.family ?? 0, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      for (const a of addresses) {
        const reason = this.refusal(hostname, a.address);
        if (reason) return callback(Object.assign(new Error(reason), { code: 'EBLOCKED' }), '');
      }
      if (opts.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
