// Removable volumes (design §3b): the drive that carries the transfer public key, the wrapped CMK
// and the audit-log segments between stations. Main lists what is mounted; the renderer sees only
// an opaque id, a label, a size and the free space — never a path.
//
//   Linux    /sys/block/<disk>/removable (or a disk on a USB bus), its partitions, /proc/mounts,
//            labels from /dev/disk/by-label
//   Windows  logical disks of DriveType 2 (removable), through PowerShell's CIM query
//   macOS    /Volumes/*, each asked of `diskutil info -plist` (Removable Media / Ejectable, not Internal)
//
// In production a folder that is not on a removable volume is refused unless an exception says why
// (tests and rehearsals use a plain folder). After a bundle is written the volume is flushed
// (`sync -f`), and the operator is told when the drive is safe to remove.

import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { join, resolve, sep } from 'node:path'

export interface Volume {
  /** Opaque: what the renderer sends back to choose this drive. */
  id: string
  label: string
  sizeBytes: number
  freeBytes: number
  fsType: string
}

/** Main's own view of a volume: with its mount point, which never reaches the renderer. */
export interface MountedVolume extends Volume {
  mountPoint: string
  device: string
}

export interface VolumeDeps {
  platform: NodeJS.Platform
  /** Prefix for /sys, /proc and /dev (tests point it at a fake tree). */
  root: string
  run(cmd: string, args: string[]): Promise<string>
  statfs(path: string): Promise<{ bsize: number; blocks: number; bavail: number }>
}

const run = (cmd: string, args: string[]) => new Promise<string>((resolveRun, reject) => {
  execFile(cmd, args, { timeout: 10_000, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolveRun(stdout)))
})

export const systemVolumeDeps: VolumeDeps = {
  platform: process.platform,
  root: '/',
  run,
  statfs: async (path) => {
    const s = await fsp.statfs(path)
    return { bsize: Number(s.bsize), blocks: Number(s.blocks), bavail: Number(s.bavail) }
  },
}

const opaqueId = (platform: string, device: string, mountPoint: string) =>
  createHash('sha256').update(`${platform}\0${device}\0${mountPoint}`).digest('hex').slice(0, 16)

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040 …); udev labels use \xNN. */
const unOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
const unHex = (s: string) => s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))

async function readText(path: string): Promise<string | null> {
  return fsp.readFile(path, 'utf8').catch(() => null)
}

async function linuxRemovableDevices(deps: VolumeDeps): Promise<Set<string>> {
  const block = join(deps.root, 'sys/block')
  const devices = new Set<string>()
  for (const disk of await fsp.readdir(block).catch(() => [] as string[])) {
    const flag = (await readText(join(block, disk, 'removable')))?.trim()
    // Many USB drives report removable=0; a disk whose device sits on a USB bus is carried all the same.
    const link = await fsp.readlink(join(block, disk)).catch(() => '')
    if (flag !== '1' && !/\/usb\d*\//.test(link)) continue
    devices.add(disk)
    for (const part of await fsp.readdir(join(block, disk)).catch(() => [] as string[])) if (part.startsWith(disk)) devices.add(part)
  }
  return devices
}

async function linuxLabels(deps: VolumeDeps): Promise<Map<string, string>> {
  const dir = join(deps.root, 'dev/disk/by-label')
  const labels = new Map<string, string>()
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const target = await fsp.readlink(join(dir, name)).catch(() => null)
    if (target) labels.set(resolve(dir, target).split(sep).at(-1)!, unHex(name))
  }
  return labels
}

async function withSpace(deps: VolumeDeps, v: Omit<MountedVolume, 'sizeBytes' | 'freeBytes'>): Promise<MountedVolume | null> {
  const s = await deps.statfs(v.mountPoint).catch(() => null)
  if (!s) return null
  return { ...v, sizeBytes: s.bsize * s.blocks, freeBytes: s.bsize * s.bavail }
}

async function linuxVolumes(deps: VolumeDeps): Promise<MountedVolume[]> {
  const removable = await linuxRemovableDevices(deps)
  const labels = await linuxLabels(deps)
  const mounts = (await readText(join(deps.root, 'proc/mounts'))) ?? ''
  const out: MountedVolume[] = []
  for (const line of mounts.split('\n')) {
    const [dev, mnt, fsType] = line.split(' ')
    if (!dev?.startsWith('/dev/') || !mnt || !fsType) continue
    const device = dev.slice('/dev/'.length)
    if (!removable.has(device)) continue
    const mountPoint = unOctal(mnt)
    const v = await withSpace(deps, { id: opaqueId('linux', device, mountPoint), label: labels.get(device) ?? mountPoint.split('/').at(-1) ?? device, fsType, mountPoint, device })
    if (v) out.push(v)
  }
  return out
}

async function windowsVolumes(deps: VolumeDeps): Promise<MountedVolume[]> {
  const json = await deps.run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command',
    'Get-CimInstance Win32_LogicalDisk -Filter "DriveType=2" | Select-Object DeviceID,VolumeName,VolumeSerialNumber,FileSystem,Size,FreeSpace | ConvertTo-Json -Compress'])
  if (json.trim() === '') return []
  const parsed = JSON.parse(json) as unknown
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>
  return rows.filter((r) => typeof r['DeviceID'] === 'string' && /^[A-Z]:$/.test(r['DeviceID'] as string) && Number(r['Size']) > 0).map((r) => {
    const device = r['DeviceID'] as string
    const mountPoint = `${device}\\`
    const label = String(r['VolumeName'] || r['VolumeSerialNumber'] || device)
    return { id: opaqueId('win32', device, mountPoint), label, fsType: String(r['FileSystem'] ?? ''), mountPoint, device, sizeBytes: Number(r['Size']), freeBytes: Number(r['FreeSpace']) }
  })
}

async function macVolumes(deps: VolumeDeps): Promise<MountedVolume[]> {
  const out: MountedVolume[] = []
  const base = join(deps.root, 'Volumes')
  for (const name of await fsp.readdir(base).catch(() => [] as string[])) {
    const mountPoint = join(base, name)
    const plist = await deps.run('diskutil', ['info', '-plist', mountPoint]).catch(() => '')
    const flag = (key: string) => new RegExp(`<key>${key}</key>\\s*<(true|false)/>`).exec(plist)?.[1] === 'true'
    const text = (key: string) => new RegExp(`<key>${key}</key>\\s*<string>([^<]*)</string>`).exec(plist)?.[1] ?? ''
    if (flag('Internal') || !(flag('RemovableMedia') || flag('Ejectable') || flag('RemovableMediaOrExternalDevice'))) continue
    const device = text('DeviceIdentifier') || name
    const v = await withSpace(deps, { id: opaqueId('darwin', device, mountPoint), label: text('VolumeName') || name, fsType: text('FilesystemType'), mountPoint, device })
    if (v) out.push(v)
  }
  return out
}

/** The removable volumes mounted now. */
export async function listRemovableVolumes(deps: VolumeDeps = systemVolumeDeps): Promise<MountedVolume[]> {
  if (deps.platform === 'win32') return windowsVolumes(deps).catch(() => [])
  if (deps.platform === 'darwin') return macVolumes(deps)
  return linuxVolumes(deps)
}

/** What the renderer may see of a volume: no mount point, no device name. */
export function volumeView(v: MountedVolume): Volume {
  return { id: v.id, label: v.label, sizeBytes: v.sizeBytes, freeBytes: v.freeBytes, fsType: v.fsType }
}

/** The removable volume `path` lies on, or null (a folder on an internal disk). */
export async function removableVolumeOf(path: string, deps: VolumeDeps = systemVolumeDeps): Promise<MountedVolume | null> {
  const real = await fsp.realpath(path).catch(() => resolve(path))
  const volumes = await listRemovableVolumes(deps)
  const inside = (mnt: string) => real === mnt || real.startsWith(mnt.endsWith(sep) ? mnt : mnt + sep)
  return volumes.filter((v) => inside(v.mountPoint)).sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0] ?? null
}

/** In production the media must be a removable volume, unless an exception (recorded by the caller) says why not. */
export async function checkMediaFolder(path: string, opts: { mode: 'production' | 'rehearsal'; exception?: string; deps?: VolumeDeps }): Promise<{ removable: MountedVolume | null; exception: string | null }> {
  if (opts.mode === 'rehearsal') return { removable: null, exception: null }
  const removable = await removableVolumeOf(path, opts.deps)
  if (removable) return { removable, exception: null }
  const why = opts.exception?.trim()
  if (!why) throw Object.assign(new Error('The media folder is not on a removable volume. A production ceremony carries its files on removable media; choose a removable drive, or record an exception saying why this folder is used.'), { code: 'MEDIA_NOT_REMOVABLE' })
  return { removable: null, exception: why }
}

/**
 * Flushes the volume holding `dir` after the bundle is written (each file and its folder were
 * fsynced already): Linux `sync -f` (syncfs), macOS `sync`. Windows flushes a volume only with
 * administrator rights, so there the per-file fsyncs stand, and the operator ejects through the OS.
 */
export async function syncVolume(dir: string, deps: VolumeDeps = systemVolumeDeps): Promise<'volume' | 'files'> {
  if (deps.platform === 'win32') return 'files'
  try {
    await deps.run('sync', deps.platform === 'linux' ? ['-f', dir] : [])
    return 'volume'
  } catch {
    return deps.run('sync', []).then(() => 'volume' as const, () => 'files' as const)
  }
}

/** What the screens and the CLI say once the bundle is on the media. */
export function safeToRemoveText(synced: 'volume' | 'files'): string {
  return synced === 'volume'
    ? 'Every file was written, read back and flushed to the drive. Eject it through the operating system; once it is ejected it is safe to remove. Seal it in the tamper-evident bag.'
    : 'Every file was written, read back and flushed. Eject the drive through the operating system and wait until it says the drive can be removed, then seal it in the tamper-evident bag.'
}
