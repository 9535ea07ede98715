/**
 * Removable volumes (design §3b): what main lists on each platform (from a fake /sys, /proc and
 * /dev tree, a PowerShell answer, a diskutil plist), that the renderer's view has no path, that a
 * production media folder must be removable unless an exception says why, and the volume flush.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { checkMediaFolder, listRemovableVolumes, syncVolume, volumeView, type VolumeDeps } from '../main/media/volumes'

const root = mkdtempSync(join(tmpdir(), 'dsm-volumes-'))
after(() => rmSync(root, { recursive: true, force: true }))

function fakeLinux(): VolumeDeps {
  const dev = (rel: string) => mkdirSync(join(root, rel), { recursive: true })
  dev('devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda')
  dev('devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb/sdb1')
  dev('devices/platform/mmc/mmc0:0001/block/mmcblk0/mmcblk0p1')
  dev('sys/block')
  symlinkSync('../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda', join(root, 'sys/block/sda'))
  symlinkSync('../../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb', join(root, 'sys/block/sdb'))
  symlinkSync('../../devices/platform/mmc/mmc0:0001/block/mmcblk0', join(root, 'sys/block/mmcblk0'))
  writeFileSync(join(root, 'sys/block/sda/removable'), '0\n')
  writeFileSync(join(root, 'sys/block/sdb/removable'), '0\n') // a USB stick that says it is not removable
  writeFileSync(join(root, 'sys/block/mmcblk0/removable'), '1\n')
  dev('proc')
  writeFileSync(join(root, 'proc/mounts'), [
    '/dev/sda2 / ext4 rw,relatime 0 0',
    '/dev/sdb1 /media/operator/CEREMONY\\04001 vfat rw,nosuid 0 0',
    '/dev/mmcblk0p1 /media/operator/SDCARD exfat rw 0 0',
    'tmpfs /tmp tmpfs rw 0 0',
  ].join('\n') + '\n')
  dev('dev/disk/by-label')
  symlinkSync('../../sdb1', join(root, 'dev/disk/by-label/CEREMONY\\x2001'))
  return { platform: 'linux', root, run: async () => '', statfs: async (p) => ({ bsize: 4096, blocks: p.includes('CEREMONY') ? 1000 : 2000, bavail: 500 }) }
}

describe('removable volumes', () => {
  const linux = fakeLinux()

  test('Linux: removable disks and USB disks from sysfs, mounted partitions from /proc/mounts, labels from /dev/disk/by-label', async () => {
    const volumes = await listRemovableVolumes(linux)
    assert.deepEqual(volumes.map((v) => [v.device, v.mountPoint, v.label, v.fsType, v.sizeBytes, v.freeBytes]), [
      ['sdb1', '/media/operator/CEREMONY 01', 'CEREMONY 01', 'vfat', 4096 * 1000, 4096 * 500],
      ['mmcblk0p1', '/media/operator/SDCARD', 'SDCARD', 'exfat', 4096 * 2000, 4096 * 500],
    ])
    const view = volumeView(volumes[0]!)
    assert.deepEqual(Object.keys(view).sort(), ['freeBytes', 'fsType', 'id', 'label', 'sizeBytes'])
    assert.match(view.id, /^[0-9a-f]{16}$/)
    assert.ok(!JSON.stringify(view).includes('/media'), 'the renderer never sees a path')
  })

  test('production refuses a folder that is not on a removable volume, unless an exception says why; a rehearsal takes any folder', async () => {
    await assert.rejects(checkMediaFolder('/home/operator/media', { mode: 'production', deps: linux }), (err: Error & { code?: string }) => err.code === 'MEDIA_NOT_REMOVABLE')
    assert.deepEqual(await checkMediaFolder('/home/operator/media', { mode: 'production', exception: 'the USB port is sealed; a CD is burnt from this folder', deps: linux }), { removable: null, exception: 'the USB port is sealed; a CD is burnt from this folder' })
    const ok = await checkMediaFolder('/media/operator/CEREMONY 01/dsm-key-ceremony', { mode: 'production', deps: linux })
    assert.equal(ok.removable?.device, 'sdb1')
    assert.deepEqual(await checkMediaFolder('/tmp/anything', { mode: 'rehearsal', deps: linux }), { removable: null, exception: null })
  })

  test('Windows: logical disks of DriveType 2 through PowerShell', async () => {
    const calls: string[][] = []
    const deps: VolumeDeps = { platform: 'win32', root, statfs: async () => { throw new Error('unused') }, run: async (cmd, args) => {
      calls.push([cmd, ...args])
      return JSON.stringify([{ DeviceID: 'E:', VolumeName: 'CEREMONY', VolumeSerialNumber: '1A2B3C4D', FileSystem: 'FAT32', Size: 8000, FreeSpace: 6000 }, { DeviceID: 'F:', VolumeName: null, Size: 0, FreeSpace: 0 }])
    } }
    const volumes = await listRemovableVolumes(deps)
    assert.equal(calls[0]![0], 'powershell.exe')
    assert.ok(calls[0]!.join(' ').includes('DriveType=2'))
    assert.deepEqual(volumes.map((v) => [v.mountPoint, v.label, v.sizeBytes, v.freeBytes]), [['E:\\', 'CEREMONY', 8000, 6000]], 'an empty card reader (size 0) is not offered')
  })

  test('macOS: /Volumes entries that diskutil calls removable or ejectable, never internal', async () => {
    mkdirSync(join(root, 'Volumes/CEREMONY'), { recursive: true })
    mkdirSync(join(root, 'Volumes/Macintosh HD'), { recursive: true })
    const plist = (internal: boolean, name: string) => `<plist><dict><key>DeviceIdentifier</key><string>disk4s1</string><key>Internal</key><${internal}/><key>Ejectable</key><${!internal}/><key>VolumeName</key><string>${name}</string><key>FilesystemType</key><string>msdos</string></dict></plist>`
    const deps: VolumeDeps = { platform: 'darwin', root, statfs: async () => ({ bsize: 512, blocks: 100, bavail: 10 }), run: async (_cmd, args) => plist(args.at(-1)!.includes('Macintosh'), args.at(-1)!.split('/').at(-1)!) }
    const volumes = await listRemovableVolumes(deps)
    assert.deepEqual(volumes.map((v) => [v.label, v.device, v.fsType]), [['CEREMONY', 'disk4s1', 'msdos']])
  })

  test('after a bundle: Linux flushes the volume with sync -f; Windows relies on the per-file fsyncs', async () => {
    const calls: string[][] = []
    const deps = { ...linux, run: async (cmd: string, args: string[]) => { calls.push([cmd, ...args]); return '' } }
    assert.equal(await syncVolume('/media/operator/CEREMONY 01', deps), 'volume')
    assert.deepEqual(calls, [['sync', '-f', '/media/operator/CEREMONY 01']])
    assert.equal(await syncVolume('E:\\x', { ...deps, platform: 'win32' }), 'files')
    const failing = { ...linux, run: async () => { throw new Error('no sync') } }
    assert.equal(await syncVolume('/x', failing), 'files')
  })
})
