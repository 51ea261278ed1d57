import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, machine, networkInterfaces, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { statfsSync } from 'node:fs';
import { collectHost } from '../test-helpers';
import { cpuInfoFrom, hostOSFrom } from './system-info.collector';
import { keyPairStatus } from './certificate.collector';
import { parseListUnits } from './host-services.collector';

describe('system host collectors against this host', () => {
  it('cpu: logicalCount is os.cpus().length, flags and arch come from the host', async () => {
    const { sink, summary } = await collectHost([{ cpu: {} }]);
    expect(summary.failed).toBe(0);
    const cpu = sink.json('host-collectors/system/cpu.json') as {
      logicalCount: number;
      physicalCount: number;
      flags: string[];
      machineArch: string;
    };
    expect(cpu.logicalCount).toBe(cpus().length);
    expect(cpu.physicalCount).toBeGreaterThanOrEqual(1);
    expect(cpu.physicalCount).toBeLessThanOrEqual(cpu.logicalCount);
    expect(cpu.machineArch).toBe(machine());
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const flagsLine = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '';
    expect(cpu.flags).toEqual(flagsLine.split(/\s+/).filter(Boolean));
  });

  it('cpu: counts physical cores from (physical id, core id) pairs', () => {
    const info = [0, 1, 2, 3]
      .map((p) => `processor\t: ${p}\nphysical id\t: 0\ncore id\t\t: ${p % 2}\nflags\t\t: fpu sse2\n`)
      .join('\n');
    expect(cpuInfoFrom(info, 4, 'x86_64')).toEqual({
      logicalCount: 4,
      physicalCount: 2,
      flags: ['fpu', 'sse2'],
      machineArch: 'x86_64',
    });
  });

  it('memory: total is MemTotal from /proc/meminfo × 1024', async () => {
    const { sink } = await collectHost([{ memory: {} }]);
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(sink.json('host-collectors/system/memory.json')).toEqual({ total: kb * 1024 });
  });

  it('diskUsage: statfs of the path, or of its nearest existing parent', async () => {
    const { sink } = await collectHost([
      { diskUsage: { collectorName: 'root', path: '/' } },
      { diskUsage: { path: '/tmp/does/not/exist/yet' } },
    ]);
    const fs = statfsSync('/');
    const root = sink.json('host-collectors/diskUsage/root.json') as { total_bytes: number; used_bytes: number };
    expect(root.total_bytes).toBe(fs.blocks * fs.bsize);
    expect(root.used_bytes).toBeGreaterThan(0);
    expect(root.used_bytes).toBeLessThanOrEqual(root.total_bytes);
    const tmp = statfsSync('/tmp');
    expect((sink.json('host-collectors/diskUsage/diskUsage.json') as { total_bytes: number }).total_bytes).toBe(
      tmp.blocks * tmp.bsize,
    );
  });

  it('hostOS: hostname, kernel and os-release fields', async () => {
    const { sink } = await collectHost([{ hostOS: {} }]);
    const info = sink.json('host-collectors/system/hostos_info.json') as Record<string, string>;
    expect(info.name).toBe(hostname());
    expect(info.kernelVersion).toBe(release());
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    expect(info.platform).toBe(/^ID="?([^"\n]*)/m.exec(osRelease)![1]);
    expect(info.platformVersion).toBe(/^VERSION_ID="?([^"\n]*)/m.exec(osRelease)?.[1] ?? '');
  });

  it('hostOS: maps families like gopsutil', () => {
    expect(hostOSFrom('ID=ubuntu\nVERSION_ID="22.04"\n', 'h', '6.1')).toEqual({
      name: 'h',
      kernelVersion: '6.1',
      platformVersion: '22.04',
      platform: 'ubuntu',
      platformFamily: 'debian',
    });
    expect(hostOSFrom('ID="rocky"\nVERSION_ID="9.3"\n', 'h', 'k').platformFamily).toBe('rhel');
    expect(hostOSFrom('ID=myos\nID_LIKE="rhel fedora"\n', 'h', 'k').platformFamily).toBe('rhel');
  });

  it('time: timezone from Intl (upper-cased, Etc/UTC → UTC) and ntp flags as booleans', async () => {
    const { sink } = await collectHost([{ time: {} }]);
    const time = sink.json('host-collectors/system/time.json') as {
      timezone: string;
      ntp_synchronized: boolean;
      ntp_active: boolean;
    };
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(time.timezone).toBe(zone === 'Etc/UTC' || zone === 'UTC' ? 'UTC' : zone.toUpperCase());
    expect(time.ntp_synchronized).toBe(existsSync('/run/systemd/timesync/synchronized'));
    expect(typeof time.ntp_active).toBe('boolean');
  });

  it('time: ntp_active when an NTP daemon runs (fixture /proc)', async () => {
    const proc = await mkdtemp(join(tmpdir(), 'proc-'));
    try {
      await mkdir(join(proc, '42'));
      await writeFile(join(proc, '42', 'comm'), 'chronyd\n');
      const { sink } = await collectHost([{ time: {} }], { host: { proc } });
      expect(sink.json('host-collectors/system/time.json')).toMatchObject({ ntp_active: true });
    } finally {
      await rm(proc, { recursive: true, force: true });
    }
  });

  it('ipv4Interfaces: up, non-loopback interfaces with IPv4, with sysfs index and MTU', async () => {
    const { sink } = await collectHost([{ ipv4Interfaces: {} }]);
    const list = sink.json('host-collectors/system/ipv4Interfaces.json') as {
      Index: number;
      MTU: number;
      Name: string;
      HardwareAddr: string | null;
      Flags: number;
    }[];
    const expected = Object.entries(networkInterfaces())

      .filter(([, addrs]) => (addrs ?? []).some((a) => a.family === 'IPv4' && !a.internal))
      .map(([name]) => name);
    expect(list.map((i) => i.Name).sort()).toEqual(expected.sort());
    for (const i of list) {
      expect(i.Index).toBe(Number(readFileSync(`/sys/class/net/${i.Name}/ifindex`, 'utf8')));
      expect(i.MTU).toBe(Number(readFileSync(`/sys/class/net/${i.Name}/mtu`, 'utf8')));
      expect(i.Flags & 1).toBe(1); // FlagUp
      expect(i.Flags & 4).toBe(0); // not FlagLoopback
    }
  });

  it('sysctl: a flat map of /proc/sys keys', async () => {
    const { sink } = await collectHost([{ sysctl: {} }]);
    const values = sink.json('host-collectors/system/sysctl.json') as Record<string, string>;
    expect(values['kernel.ostype']).toBe(readFileSync('/proc/sys/kernel/ostype', 'utf8').trim());
    expect(Object.keys(values).length).toBeGreaterThan(20);
  });

  it('kernelModules: /proc/modules plus loadable modules from modules.dep (fixture roots)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mods-'));
    try {
      await mkdir(join(root, 'proc'));
      await mkdir(join(root, 'lib', release()), { recursive: true });
      await writeFile(
        join(root, 'proc', 'modules'),
        'xfs 1503232 1 - Live 0x0000000000000000\nnf_nat 49152 2 nft_chain_nat, Unloading 0x0\n',
      );
      await writeFile(
        join(root, 'lib', release(), 'modules.dep'),
        'kernel/fs/xfs/xfs.ko.zst: kernel/lib/libcrc32c.ko.zst\nkernel/net/dummy-mod.ko:\n',
      );
      await writeFile(join(root, 'lib', release(), 'modules.builtin'), 'kernel/fs/ext4/ext4.ko\n');
      const { sink } = await collectHost([{ kernelModules: {} }], {
        host: { proc: join(root, 'proc'), modules: join(root, 'lib') },
      });
      expect(sink.json('host-collectors/system/kernel_modules.json')).toEqual({
        xfs: { size: 1503232, instances: 1, status: 'loaded' },
        nf_nat: { size: 49152, instances: 2, status: 'unloading' },
        dummy_mod: { size: 0, instances: 0, status: 'loadable' },
        ext4: { size: 0, instances: 0, status: 'loaded' },
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('kernelModules: on this host, a record of the real /proc/modules or an error file when it is absent', async () => {
    const { sink, summary } = await collectHost([{ kernelModules: {} }]);
    if (existsSync('/proc/modules')) {
      const first = readFileSync('/proc/modules', 'utf8').split('\n')[0]!.split(' ')[0]!;
      expect(sink.json('host-collectors/system/kernel_modules.json')).toHaveProperty(first);
    } else {
      expect(summary.failed).toBe(1);
      expect(sink.json('host-collectors/errors/Kernel Modules-error.json')).toMatchObject({
        collector: 'Kernel Modules',
        error: expect.stringMatching(/modules/),
      });
    }
  });

  it('blockDevices: every /sys/block device with its size in bytes', async () => {
    const { sink } = await collectHost([{ blockDevices: {} }]);
    const devices = sink.json('host-collectors/system/block_devices.json') as {
      kernel_name: string;
      size: number;
      type: string;
      major: number;
    }[];
    const names = readdirSync('/sys/block');
    for (const name of names) {
      const d = devices.find((x) => x.kernel_name === name);
      expect(d).toBeDefined();
      expect(d!.size).toBe(Number(readFileSync(`/sys/block/${name}/size`, 'utf8')) * 512);
      expect(d!.major).toBe(Number(readFileSync(`/sys/block/${name}/dev`, 'utf8').split(':')[0]));
    }
  });

  it('hostServices: systemctl units when systemd runs, else an error saying systemd is not available', async () => {
    const { sink, summary } = await collectHost([{ hostServices: {} }]);
    if (existsSync('/run/systemd/system')) {
      expect(Array.isArray(sink.json('host-collectors/system/systemctl_services.json'))).toBe(true);
    } else {
      expect(summary.results[0]).toMatchObject({ error: expect.stringMatching(/systemd not available/) });
      expect(sink.json('host-collectors/errors/Host Services-error.json')).toMatchObject({
        error: expect.stringMatching(/systemd not available/),
      });
    }
    const fixture = await mkdtemp(join(tmpdir(), 'run-'));
    try {
      const forced = await collectHost([{ hostServices: {} }], { host: { run: fixture } });
      expect(forced.summary.results[0]!.error).toMatch(/systemd not available/);
    } finally {
      await rm(fixture, { recursive: true, force: true });
    }
  });

  it('hostServices: parses list-units output', () => {
    expect(
      parseListUnits(
        'ssh.service loaded active running OpenBSD Secure Shell server\n● foo.service not-found inactive dead foo.service\n',
      ),
    ).toEqual([
      { Unit: 'ssh.service', Load: 'loaded', Active: 'active', Sub: 'running' },
      { Unit: 'foo.service', Load: 'not-found', Active: 'inactive', Sub: 'dead' },
    ]);
  });

  describe('certificate', () => {
    const cert = readFileSync(join(__dirname, 'fixtures/test-cert.pem'), 'utf8');
    const key = readFileSync(join(__dirname, 'fixtures/test-key.pem'), 'utf8');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

    it('classifies key pairs like troubleshoot', () => {
      expect(keyPairStatus(cert, key)).toBe('key-pair-valid');
      expect(keyPairStatus(undefined, key)).toBe('key-pair-missing');
      expect(keyPairStatus(key, cert)).toBe('key-pair-switched');
      expect(keyPairStatus(cert, other.export({ type: 'pkcs8', format: 'pem' }) as string)).toBe('key-pair-mismatch');
      expect(
        keyPairStatus(
          cert,
          other.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string,
        ),
      ).toBe('key-pair-encrypted');
      expect(keyPairStatus('garbage', key)).toBe('key-pair-invalid');
    });

    it('writes the status as plain text at the documented path', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cert-'));
      try {
        await writeFile(join(dir, 'c.pem'), cert);
        await writeFile(join(dir, 'k.pem'), key);
        const { sink } = await collectHost([
          { certificate: { collectorName: 'api', certificatePath: join(dir, 'c.pem'), keyPath: join(dir, 'k.pem') } },
          { certificate: { certificatePath: join(dir, 'missing.pem'), keyPath: join(dir, 'k.pem') } },
        ]);
        expect(sink.text('host-collectors/certificate/api.json')).toBe('key-pair-valid');
        expect(sink.text('host-collectors/certificate/certificate.json')).toBe('key-pair-missing');
        expect(await readFile(join(dir, 'k.pem'), 'utf8')).toBe(key); // untouched
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
