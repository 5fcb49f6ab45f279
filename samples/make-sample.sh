#!/usr/bin/env bash
# Rebuilds the sample backup shipped with vmafs (used by './bootstrap demo' and the tests):
#   vzdump-qemu-100-2026_11_22-12_00_00.vma.zst
# A 64 MiB disk with an MBR, a bootable boot sector (samples/bootsector.asm) and an ext4
# partition holding a few known files, plus a small second drive of an odd size, packed with
# 'vmafs create --order shuffled' (clusters out of order and interleaved, as Proxmox writes them)
# and compressed the way vzdump does ('zstd --threads=N' from a pipe).
# Needs: nasm, sfdisk, mkfs.ext4 (e2fsprogs >= 1.43 for -d), zstd. No root, no loop device.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1795348800 E2FSPROGS_FAKE_TIME=1795348800   # 2026-11-22 12:00:00 UTC

marker_lba=120000            # ~58.6 MiB into the disk, far past the first clusters
disk=$work/disk-drive-scsi0.raw
truncate -s 64M "$disk"
printf 'label: dos\nlabel-id: 0x766d6166\nstart=2048, size=96256, type=83, bootable\n' | sfdisk -q "$disk"

mkdir -p "$work/root/etc" "$work/root/home/admin"
printf 'sample-vm\n' > "$work/root/etc/hostname"
cat > "$work/root/README.txt" <<'TXT'
This file lives on partition 1 (ext4) of drive-scsi0 of the vmafs sample backup.
If you can read it through 'losetup -r -P' on a vmafs mount, single-file recovery works.
TXT
# A file large enough to span many 64 KiB clusters, with content anyone can regenerate to check.
seq 1 200000 > "$work/root/home/admin/numbers.txt"
mkfs.ext4 -q -F -L vmafs-sample -U 2f1c6a52-7d0e-4c5b-9a51-6d1f0b7e2a10 -E offset=$((2048 * 512)) \
  -d "$work/root" "$disk" 47M

nasm -f bin -DMARKER_LBA=$marker_lba -o "$work/boot.bin" "$here/bootsector.asm"
dd if="$work/boot.bin" of="$disk" bs=440 count=1 conv=notrunc status=none
printf 'vmafs sample marker at LBA %d' $marker_lba | dd of="$disk" bs=512 seek=$marker_lba conv=notrunc status=none

efi=$work/disk-drive-efidisk0.raw             # small and not 64 KiB-aligned, like an OVMF vars disk
head -c 540672 /dev/zero > "$efi"
printf 'EFI vars placeholder' | dd of="$efi" bs=4096 seek=3 conv=notrunc status=none

cat > "$work/qemu-server.conf" <<'CONF'
boot: order=scsi0
cores: 1
memory: 512
name: sample-vm
net0: virtio=BC:24:11:00:00:01,bridge=vmbr0
ostype: l26
scsi0: local-lvm:vm-100-disk-0,size=64M
efidisk0: local-lvm:vm-100-disk-1,size=528K
scsihw: virtio-scsi-pci
#qmdump#map:efidisk0:drive-efidisk0:local-lvm:raw:
#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:
CONF

${VMAFS:-"$here/../vmafs"} create --force --order shuffled --seed 100 --ctime 1795348800 \
  --uuid 8f0c2a4e-1b7d-4e29-9c3a-5d6e7f809a1b -c "$work/qemu-server.conf" \
  "$work/sample.vma" drive-efidisk0="$efi" drive-scsi0="$disk"
zstd -q --threads=2 < "$work/sample.vma" > "$out"
ls -l "$out"
