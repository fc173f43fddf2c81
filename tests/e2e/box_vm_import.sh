#!/bin/bash
# VirtualBox, VMware and Hyper-V Vagrant boxes under qemu (docs/boxes.md,
# "VirtualBox, VMware and Hyper-V boxes"): den's own VM box image made a
# vdi, a vmdk and a vhdx by qemu-img, each wrapped as Vagrant wraps it for
# its provider (box.ovf, a .vmx, Virtual Machines/*.xml), added (converted
# to qcow2), and all three booted side by side under qemu to SSH, with the
# CPU count and memory their descriptions say. Boxes den cannot convert,
# and disks that read files outside the box, are refused with the store
# unchanged.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
require_root "building the qemu box (debootstrap, mkfs)"

add_box debian-12 qemu
IMG=$(echo "$DEN_HOME"/boxes/den/debian-12/*/libvirt-amd64/box.img)
PROJ="$T_DIR/proj"
mkdir -p "$PROJ"
trap '"$DEN" -q -C "$PROJ" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
cd "$T_DIR"
META='"den": { "ssh_user": "den" }'

ovf() { # DISK CPUS MIB: a VirtualBox export's box.ovf, as `vagrant package` leaves it
	cat <<EOF
<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vbox="http://www.virtualbox.org/ovf/machine">
  <References><File ovf:id="file1" ovf:href="$1"/></References>
  <DiskSection><Info>Virtual disks</Info><Disk ovf:capacity="8589934592" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="debian-12"><Info>A virtual machine</Info>
    <VirtualHardwareSection><Info>Virtual hardware</Info>
      <Item><rasd:Caption>$2 virtual CPU</rasd:Caption><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>$2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>$3</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}

# --- virtualbox: box.ovf + a vdi -----------------------------------------------------
mkdir vb
qemu-img convert -f qcow2 -O vdi "$IMG" vb/box-disk001.vdi
ovf box-disk001.vdi 1 640 >vb/box.ovf
echo "{ \"provider\": \"virtualbox\", $META }" >vb/metadata.json
tar -C vb -cf vb.box .

# --- vmware_desktop: a .vmx + a vmdk -------------------------------------------------------
mkdir vmw
qemu-img convert -f qcow2 -O vmdk "$IMG" vmw/disk.vmdk
cat >vmw/debian-12.vmx <<'EOF'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
numvcpus = "2"
memsize = "704"
scsi0.present = "TRUE"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "disk.vmdk"
ide1:0.deviceType = "cdrom-raw"
EOF
echo "{ \"provider\": \"vmware_desktop\", $META }" >vmw/metadata.json
tar -C vmw -czf vmw.box .

# --- hyperv: Virtual Hard Disks/*.vhdx + Virtual Machines/*.xml --------------------------------
mkdir -p hv/"Virtual Hard Disks" hv/"Virtual Machines"
qemu-img convert -f qcow2 -O vhdx "$IMG" "hv/Virtual Hard Disks/debian-12.vhdx"
cat >"hv/Virtual Machines/0B1D2C3E-0000-4000-8000-000000000001.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-16" standalone="yes"?>
<configuration>
  <properties><name type="string">debian-12</name></properties>
  <settings>
    <processors><count type="integer">1</count></processors>
    <memory><bank><dynamic_memory_enabled type="bool">False</dynamic_memory_enabled><size type="integer">768</size></bank></memory>
  </settings>
</configuration>
EOF
sed -i 's/encoding="UTF-16"/encoding="UTF-8"/' hv/"Virtual Machines"/*.xml
echo "{ \"provider\": \"hyperv\", $META }" >hv/metadata.json
tar -C hv -cf hv.box .

for b in vb vmw hv; do
	run box add "$b.box" --name "test/$b"
	expect_rc 0 "add the $b box"
	expect_err "converting the" "$b: converted"
	D=$(echo "$DEN_HOME"/boxes/test/$b/0/libvirt-*)
	expect_true '[ -f "$D/box.img" ] && [ "$(ls "$D" | sort | tr "\n" " ")" = "box.img box.json metadata.json " ]' "$b: box.img is all that is left of the disk"
	expect_true 'qemu-img info -f qcow2 "$D/box.img" >/dev/null' "$b: box.img is a qcow2"
done
expect_true 'python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m[\"provider\"] == \"libvirt\" and m[\"format\"] == \"qcow2\" and m[\"virtual_size\"] == 8, m
assert m[\"den\"][\"imported_from\"] == \"vmware_desktop\" and m[\"den\"][\"cpus\"] == \"2\" and m[\"den\"][\"memory\"] == \"704M\", m
" "$(echo "$DEN_HOME"/boxes/test/vmw/0/libvirt-*/metadata.json)"' "the .vmx's CPUs and memory are kept"
run box list
expect_true 'printf "%s\n" "$OUT" | grep -E "^test/hv " | grep -q "libvirt"' "box list shows the converted box as libvirt"

# A catalog (as Vagrant Cloud's) with no libvirt box: its VirtualBox one serves qemu and kvm.
printf '{ "name": "test/cat", "versions": [ { "version": "1.2.0", "providers": [
  { "name": "virtualbox", "url": "vb.box", "checksum_type": "sha256", "checksum": "%s" } ] } ] }\n' \
	"$(sha256sum vb.box | cut -d" " -f1)" >catalog.json
run box add ./catalog.json --provider libvirt
expect_rc 0 "a libvirt box asked of a catalog that has only a virtualbox one"
expect_true '[ -f "$(echo "$DEN_HOME"/boxes/test/cat/1.2.0/libvirt-*/box.img)" ]' "it is converted and stored as libvirt"

# --- all three up under qemu, side by side -------------------------------------------------------
cd "$PROJ"
cat >Envfile <<'EOF'
den: 1
defaults:
  provider: qemu
  boot_timeout: 900
  synced_folders: [{ host: ., guest: /vagrant, disabled: true }]
machines:
  vb: { box: test/vb }
  vmw: { box: test/vmw }
  hv: { box: test/hv, memory: 900M }
EOF
run up
expect_rc 0 "den up of the three converted boxes"
run ssh vb -c 'echo $(nproc) $(($(grep MemTotal /proc/meminfo | tr -dc 0-9) / 1024))'
expect_true '[ "$(echo $OUT | cut -d" " -f1)" = 1 ] && [ "$(echo $OUT | cut -d" " -f2)" -gt 500 ] && [ "$(echo $OUT | cut -d" " -f2)" -le 640 ]' "vb: the OVF's 1 CPU and 640 MiB ($OUT)"
run ssh vmw -c 'nproc'
expect_out "2" "vmw: the .vmx's 2 CPUs"
run ssh hv -c 'echo $(($(grep MemTotal /proc/meminfo | tr -dc 0-9) / 1024))'
expect_true '[ "$OUT" -gt 768 ]' "hv: the Envfile's memory wins over the box's ($OUT MiB)"
run destroy -f
expect_rc 0 "destroy"
cd "$T_DIR"

# --- refused, the store unchanged ---------------------------------------------------------------
store_snapshot() { (cd "$DEN_HOME" && find boxes -printf '%p %s %m %l %i %T@\n' | sort); }
before=$(store_snapshot)
refused() { # DIR MESSAGE WHAT
	tar -C "$1" -cf "$1.box" .
	run box add "$1.box" --name test/bad
	expect_rc 1 "$3 is refused"
	expect_err "$2" "$3: says why"
	expect_true '[ "$(store_snapshot)" = "$before" ]' "$3: the store is as it was"
	expect_true '[ -z "$(ls -A "$DEN_HOME/tmp")" ]' "$3: nothing is left in tmp"
}
mkdir iso && : >iso/disk.iso && ovf disk.iso 1 512 >iso/box.ovf
echo '{ "provider": "virtualbox" }' >iso/metadata.json
refused iso "'disk.iso' is not a .vmdk" "a disk format den cannot convert"
mkdir out && printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/passwd" 0\nddb.adapterType = "ide"\n' >out/disk.vmdk
ovf disk.vmdk 1 512 >out/box.ovf
echo '{ "provider": "virtualbox" }' >out/metadata.json
refused out "extent outside the box" "a vmdk whose extent is a host file"
mkdir two && : >two/a.vmdk && : >two/b.vmdk
printf 'numvcpus = "1"\nscsi0:0.fileName = "a.vmdk"\nscsi0:1.fileName = "b.vmdk"\n' >two/m.vmx
echo '{ "provider": "vmware_desktop" }' >two/metadata.json
refused two "more than one disk" "a box of two disks"
mkdir none && echo '{ "provider": "hyperv" }' >none/metadata.json
refused none "no disk in 'Virtual Hard Disks/'" "a Hyper-V box without a disk"

t_done
