import { styleText } from 'node:util';

type Color = Parameters<typeof styleText>[0];

const LEVEL_COLORS: Record<string, Color> = {
  trace: 'gray',
  debug: 'gray',
  info: 'green',
  warn: 'yellow',
  error: 'red',
  fatal: 'red',
};

const OMIT = new Set(['level', 'time', 'app', 'instance', 'msg', 'component', 'pid', 'hostname']);

/**
 * Turn one line of a child's output into what `cronbundle up` shows: the apps log JSON (pino),
 * rendered here as `HH:MM:SS LEVEL component: message key=value`; anything else passes through.
 */
export function renderLogLine(line: string, color: boolean): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const level = String(entry.level ?? 'info');
  const paint = (c: Color, s: string) => (color ? styleText(c, s) : s);
  const extras = Object.entries(entry)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const component = entry.component ? `${String(entry.component)}: ` : '';
  return [
    paint('gray', time),
    paint(LEVEL_COLORS[level] ?? 'white', level.toUpperCase().padEnd(5)),
    `${component}${String(entry.msg ?? '')}`,
    extras && paint('gray', extras),
  ]
    .filter(Boolean)
    .join(' ');
}

const PREFIX_COLORS: Color[] = ['cyan', 'magenta', 'blue', 'yellow', 'green', 'red'];

export function prefixFor(name: string, index: number, width: number, color: boolean): string {
  const label = `[${name}]`.padEnd(width + 2);
  return color ? styleText(PREFIX_COLORS[index % PREFIX_COLORS.length], label) : label;
}
