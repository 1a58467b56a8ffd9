import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Local TCP ports of the connections process `pid` holds to `remotePort` (Linux /proc). Lets a
 * test find its own worker's connections in a server's process list (MariaDB shows the client
 * `host:port` of every connection) without touching anyone else's on a shared server.
 */
export async function localPortsTo(pid: number, remotePort: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m !== null) inodes.add(m[1]!);
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = f[1]!.split(':');
      const remote = f[2]!.split(':');
      if (parseInt(remote[1] ?? '', 16) === remotePort && inodes.has(f[9]!)) ports.push(parseInt(local[1] ?? '', 16));
    }
  }
  return ports;
}
