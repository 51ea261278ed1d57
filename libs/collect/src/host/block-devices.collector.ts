import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCollector } from '../framework/collector.types';
import { readOptional } from './host-fs';
import type { HostCollectorSpec } from '../spec/collector-schemas';

export interface BlockDeviceInfo {
  name: string;
  kernel_name: string;
  parent_kernel_name: string;
  type: string;
  major: number;
  minor: number;
  size: number;
  filesystem_type: string;
  mountpoint: string;
  serial: string;
  read_only: boolean;
  removable: boolean;
}

/** lsblk's fields, read from /sys/block and the mount table instead of running lsblk. */
export const blockDevicesCollector = defineCollector<HostCollectorSpec<'blockDevices'>>({
  type: 'blockDevices',
  scope: 'host',
  defaultTitle: 'Block Devices',
  async collect(ctx) {
    const { sys, proc } = ctx.policy.host;
    const mounts = new Map<string, { mountpoint: string; fstype: string }>();
    for (const line of ((await readOptional(join(proc, 'self/mounts'))) ?? '').split('\n')) {
      const [source, mountpoint, fstype] = line.split(' ');
      if (source?.startsWith('/dev/') && mountpoint && !mounts.has(source)) {
        mounts.set(source.slice(5), { mountpoint: mountpoint.replace(/\\040/g, ' '), fstype: fstype ?? '' });
      }
    }
    const read = async (dir: string, file: string) => ((await readOptional(join(dir, file))) ?? '').trim();
    const describe = async (
      dir: string,
      kernelName: string,
      parent: string,
      type: string,
    ): Promise<BlockDeviceInfo> => {
      const [major, minor] = (await read(dir, 'dev')).split(':').map(Number);
      const dmName = await read(dir, 'dm/name');
      const mount = mounts.get(kernelName) ?? (dmName ? mounts.get(`mapper/${dmName}`) : undefined);
      const serial = (await read(dir, 'device/serial')) || (await read(dir, 'serial'));
      return {
        name: dmName || kernelName,
        kernel_name: kernelName,
        parent_kernel_name: parent,
        type,
        major: major ?? 0,
        minor: minor ?? 0,
        size: (Number(await read(dir, 'size')) || 0) * 512,
        filesystem_type: mount?.fstype ?? '',
        mountpoint: mount?.mountpoint ?? '',
        serial,
        read_only: (await read(dir, 'ro')) === '1',
        removable: (await read(dir, 'removable')) === '1',
      };
    };
    const devices: BlockDeviceInfo[] = [];
    const names = (await readdir(join(sys, 'block'))).sort();
    for (const name of names) {
      const dir = join(sys, 'block', name);
      const type = name.startsWith('loop')
        ? 'loop'
        : name.startsWith('sr')
          ? 'rom'
          : name.startsWith('dm-')
            ? 'lvm'
            : 'disk';
      devices.push(await describe(dir, name, '', type));
      const children = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) =>
        e.name.startsWith(name),
      );
      for (const child of children.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if ((await readOptional(join(dir, child.name, 'partition'))) === undefined) continue;
        const partition = await describe(join(dir, child.name), child.name, name, 'part');
        if (!partition.mountpoint && ctx.spec.includeUnmountedPartitions === false) continue;
        devices.push(partition);
      }
    }
    await ctx.output.addJson('host-collectors/system/block_devices.json', devices);
  },
});
