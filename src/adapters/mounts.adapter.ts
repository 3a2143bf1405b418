/** Which file system a path lives on (Linux /proc/self/mounts), to poll network and FUSE mounts. */
import fs from 'node:fs/promises';
import path from 'node:path';

const NETWORK_FS =
  /^(nfs4?|cifs|smb3?|smbfs|afs|9p|sshfs|fuse(\..*)?|fuseblk|davfs|glusterfs|ceph|lustre|virtiofs|vboxsf|vmhgfs|webdav)$/;

export interface MountInfo {
  readonly mountPoint: string;
  readonly fsType: string;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount that holds `p` (longest matching mount point), or undefined where unknown. */
export async function mountOf(p: string): Promise<MountInfo | undefined> {
  let text: string;
  try {
    text = await fs.readFile('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  let best: MountInfo | undefined;
  const target = path.resolve(p);
  for (const line of text.split('\n')) {
    const [, mp, type] = line.split(' ');
    if (mp === undefined || type === undefined) continue;
    const mountPoint = unescapeMount(mp);
    const inside =
      target === mountPoint || target.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
    if (inside && (best === undefined || mountPoint.length > best.mountPoint.length))
      best = { mountPoint, fsType: type };
  }
  return best;
}

export function isNetworkFs(fsType: string): boolean {
  return NETWORK_FS.test(fsType);
}
