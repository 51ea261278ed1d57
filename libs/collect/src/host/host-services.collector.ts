import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { defineCollector } from '../framework/collector.types';

export interface ServiceInfo {
  Unit: string;
  Load: string;
  Active: string;
  Sub: string;
}

export function parseListUnits(text: string): ServiceInfo[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/^[●*]\s*/, ''))
    .filter(Boolean)
    .map((line) => {
      const [Unit = '', Load = '', Active = '', Sub = ''] = line.split(/\s+/);
      return { Unit, Load, Active, Sub };
    })
    .filter((s) => s.Unit.includes('.'));
}

export async function findExecutable(name: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

export const hostServicesCollector = defineCollector({
  type: 'hostServices',
  scope: 'host',
  defaultTitle: 'Host Services',
  async collect(ctx) {
    // sd_booted(): systemd is the init system only when this directory exists.
    const booted = await access(join(ctx.policy.host.run, 'systemd/system')).then(
      () => true,
      () => false,
    );
    const systemctl = booted ? await findExecutable('systemctl', ctx.policy.env.PATH) : undefined;
    if (!systemctl) throw new Error('systemd not available: cannot list host services');
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        systemctl,
        ['list-units', '--type=service', '--all', '--no-pager', '--no-legend', '--plain'],
        {
          signal: ctx.signal,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { PATH: ctx.policy.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
        },
      );
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (out.length < ctx.limits.maxOutputBytes) out += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (err.length < 4096) err += d;
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`systemctl exited ${code}: ${err.trim()}`)),
      );
    });
    await ctx.output.addJson('host-collectors/system/systemctl_services.json', parseListUnits(output));
  },
});
