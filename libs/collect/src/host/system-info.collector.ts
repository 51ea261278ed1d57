import { access, readdir } from 'node:fs/promises';
import { cpus, hostname, machine, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { defineCollector } from '../framework/collector.types';
import { parseKeyValues, readOptional } from './host-fs';

export const cpuCollector = defineCollector({
  type: 'cpu',
  scope: 'host',
  defaultTitle: 'CPU Info',
  async collect(ctx) {
    const info = (await readOptional(join(ctx.policy.host.proc, 'cpuinfo'))) ?? '';
    await ctx.output.addJson('host-collectors/system/cpu.json', cpuInfoFrom(info, cpus().length, machine()));
  },
});

export function cpuInfoFrom(cpuinfo: string, logicalFallback: number, machineArch: string) {
  const cores = new Set<string>();
  let processors = 0;
  let flags: string[] = [];
  let physicalId = '';
  for (const line of cpuinfo.split('\n')) {
    const [rawKey, ...rest] = line.split(':');
    const key = (rawKey ?? '').trim();
    const value = rest.join(':').trim();
    if (key === 'processor') processors++;
    else if (key === 'physical id') physicalId = value;
    else if (key === 'core id') cores.add(`${physicalId}/${value}`);
    else if ((key === 'flags' || key === 'Features') && flags.length === 0) flags = value.split(/\s+/).filter(Boolean);
  }
  const logicalCount = logicalFallback || processors;
  return { logicalCount, physicalCount: cores.size || logicalCount, flags, machineArch };
}

export const memoryCollector = defineCollector({
  type: 'memory',
  scope: 'host',
  defaultTitle: 'Amount of Memory',
  async collect(ctx) {
    const meminfo = await readOptional(join(ctx.policy.host.proc, 'meminfo'));
    const kb = meminfo && /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1];
    await ctx.output.addJson('host-collectors/system/memory.json', { total: kb ? Number(kb) * 1024 : totalmem() });
  },
});

const PLATFORM_FAMILY: Record<string, string> = {
  debian: 'debian',
  ubuntu: 'debian',
  linuxmint: 'debian',
  raspbian: 'debian',
  rhel: 'rhel',
  centos: 'rhel',
  redhat: 'rhel',
  ol: 'rhel',
  oracle: 'rhel',
  rocky: 'rhel',
  almalinux: 'rhel',
  amzn: 'rhel',
  amazon: 'rhel',
  scientific: 'rhel',
  cloudlinux: 'rhel',
  fedora: 'fedora',
  sles: 'suse',
  sled: 'suse',
  opensuse: 'suse',
  'opensuse-leap': 'suse',
  'opensuse-tumbleweed': 'suse',
  arch: 'arch',
  manjaro: 'arch',
  alpine: 'alpine',
  gentoo: 'gentoo',
  coreos: 'coreos',
};

export const hostOSCollector = defineCollector({
  type: 'hostOS',
  scope: 'host',
  defaultTitle: 'Host OS Info',
  async collect(ctx) {
    const osRelease = (await readOptional(join(ctx.policy.host.etc, 'os-release'))) ?? '';
    await ctx.output.addJson('host-collectors/system/hostos_info.json', hostOSFrom(osRelease, hostname(), release()));
  },
});

export function hostOSFrom(osRelease: string, name: string, kernelVersion: string) {
  const kv = parseKeyValues(osRelease);
  const platform = (kv.ID ?? '').toLowerCase();
  const like = (kv.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const platformFamily = PLATFORM_FAMILY[platform] ?? like.map((l) => PLATFORM_FAMILY[l]).find(Boolean) ?? platform;
  return { name, kernelVersion, platformVersion: kv.VERSION_ID ?? '', platform, platformFamily };
}

const NTP_DAEMONS = new Set(['chronyd', 'ntpd', 'systemd-timesyn', 'openntpd', 'ntpd-rs', 'timesyncd']);

export const timeCollector = defineCollector({
  type: 'time',
  scope: 'host',
  defaultTitle: 'Time',
  async collect(ctx) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const timezone = zone === 'Etc/UTC' || zone === 'Etc/UCT' || zone === 'UCT' ? 'UTC' : zone.toUpperCase();
    // No timedatectl: timesyncd drops a flag file once synchronised; a running NTP daemon means active.
    const ntpSynchronized = await access(join(ctx.policy.host.run, 'systemd/timesync/synchronized')).then(
      () => true,
      () => false,
    );
    let ntpActive = false;
    const pids = (await readdir(ctx.policy.host.proc).catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      const comm = (await readOptional(join(ctx.policy.host.proc, pid, 'comm')))?.trim();
      if (comm && NTP_DAEMONS.has(comm)) {
        ntpActive = true;
        break;
      }
    }
    await ctx.output.addJson('host-collectors/system/time.json', {
      timezone,
      ntp_synchronized: ntpSynchronized,
      ntp_active: ntpActive,
    });
  },
});

/** Linux IFF_* bits → Go's net.Flags bits, which troubleshoot serialises. */
const GO_FLAGS: [number, number][] = [
  [0x1, 1 << 0], // up
  [0x2, 1 << 1], // broadcast
  [0x8, 1 << 2], // loopback
  [0x10, 1 << 3], // point-to-point
  [0x1000, 1 << 4], // multicast
  [0x40, 1 << 5], // running
];

export const ipv4InterfacesCollector = defineCollector({
  type: 'ipv4Interfaces',
  scope: 'host',
  defaultTitle: 'IPv4 Interfaces',
  async collect(ctx) {
    const result: { Index: number; MTU: number; Name: string; HardwareAddr: string | null; Flags: number }[] = [];
    for (const [name, addresses] of Object.entries(networkInterfaces())) {
      const dir = join(ctx.policy.host.sys, 'class/net', name);
      const linuxFlags = parseInt((await readOptional(join(dir, 'flags')))?.trim() ?? '', 16);
      const internal = (addresses ?? []).some((a) => a.internal);
      const flags = Number.isNaN(linuxFlags)
        ? 1 | (internal ? 1 << 2 : 0)
        : GO_FLAGS.reduce((acc, [linux, go]) => (linuxFlags & linux ? acc | go : acc), 0);
      // troubleshoot lists interfaces that are up, not loopback, and have an IPv4 address.
      if (!(flags & 1) || flags & (1 << 2) || !(addresses ?? []).some((a) => a.family === 'IPv4')) continue;
      const mac = (addresses ?? [])[0]?.mac ?? '';
      const macBytes = Buffer.from(mac.split(':').map((h) => parseInt(h, 16) || 0));
      result.push({
        Index: Number((await readOptional(join(dir, 'ifindex')))?.trim() ?? 0) || 0,
        MTU: Number((await readOptional(join(dir, 'mtu')))?.trim() ?? 0) || 0,
        Name: name,
        HardwareAddr: macBytes.some((b) => b !== 0) ? macBytes.toString('base64') : null,
        Flags: flags,
      });
    }
    await ctx.output.addJson('host-collectors/system/ipv4Interfaces.json', result);
  },
});
